//! Syncing the workspace into the scratch copy, against the size of the tree: the first sync
//! (everything copied), a sync with nothing changed, and a sync after one file changed, on
//! generated trees of 1,000 to 50,000 files in 10 members. A sync must cost in proportion to
//! the change (plus one `stat` per file, as `git status` does), not to the bytes of the tree.

use std::path::Path;
use std::time::Instant;

use dualtrack::scratch::copy::sync_tree;

mod util;
use util::median;

const SIZES: &[usize] = &[1_000, 10_000, 50_000];

fn main() {
    println!("sync_tree, median of 5 (first sync once):");
    println!(
        "{:>7} {:>9} {:>12} {:>12} {:>14} {:>10}",
        "files", "MB", "first", "unchanged", "one changed", "per file"
    );
    for &files in SIZES {
        let root = tempfile::tempdir().unwrap();
        let src = root.path().join("ws");
        let dest = root.path().join("copy");
        let bytes = make_tree(&src, files);
        let start = Instant::now();
        let first = sync_tree(&src, &dest, &[], &[]).unwrap();
        let first_time = start.elapsed();
        assert_eq!(first.copied, files + 1, "every file is copied once");
        let unchanged = median(5, || {
            let start = Instant::now();
            let report = sync_tree(&src, &dest, &[], &[]).unwrap();
            assert_eq!(report.copied, 0);
            start.elapsed()
        });
        let changed_file = src.join("member0/src/m0.rs");
        let one_changed = median(5, || {
            let text = std::fs::read_to_string(&changed_file).unwrap();
            std::fs::write(&changed_file, format!("{text}// edit\n")).unwrap();
            let start = Instant::now();
            let report = sync_tree(&src, &dest, &[], &[]).unwrap();
            let elapsed = start.elapsed();
            assert_eq!(report.copied, 1, "only the changed file is copied");
            elapsed
        });
        println!(
            "{files:>7} {:>9.1} {:>9.1} ms {:>9.1} ms {:>11.1} ms {:>7.2} µs",
            bytes as f64 / 1e6,
            first_time.as_secs_f64() * 1e3,
            unchanged.as_secs_f64() * 1e3,
            one_changed.as_secs_f64() * 1e3,
            unchanged.as_secs_f64() * 1e6 / files as f64
        );
    }
}

/// A workspace of 10 members sharing `files` source files of about 4 KB each; returns the
/// bytes written.
fn make_tree(root: &Path, files: usize) -> u64 {
    let members = 10;
    let body: String = (0..100)
        .map(|i| format!("pub fn f{i}(x: u32) -> u32 {{ x.wrapping_add({i}) }}\n"))
        .collect();
    let mut bytes = 0;
    std::fs::create_dir_all(root).unwrap();
    let list: Vec<String> = (0..members).map(|m| format!("\"member{m}\"")).collect();
    std::fs::write(
        root.join("Cargo.toml"),
        format!("[workspace]\nmembers = [{}]\n", list.join(", ")),
    )
    .unwrap();
    for n in 0..files {
        let member = n % members;
        let dir = root.join(format!("member{member}/src/d{}", n / 500));
        std::fs::create_dir_all(&dir).unwrap();
        let path = if n < members {
            root.join(format!("member{member}/src/m{n}.rs"))
        } else {
            dir.join(format!("m{n}.rs"))
        };
        std::fs::write(&path, &body).unwrap();
        bytes += body.len() as u64;
    }
    bytes
}
