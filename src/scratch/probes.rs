//! Site probes: a hit counter on each site, spliced into the scratch copy's sources as text
//! (no line moves, so compiler errors and panic lines still point at the user's lines), and
//! a small runtime module appended to each crate root that counts into a file the harness
//! maps per test (`MAP_SHARED`: the counts survive a test killed by its timeout).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::analyze::{Analysis, Splice};
use crate::workspace::Workspace;

/// The environment variable that tells a test where its counters are: `fd:3:DEV:INO`, the
/// descriptor and the identity of the file behind it (a descriptor 3 that is some other file,
/// in a process the test spawned, is left alone).
pub const PROBES_VAR: &str = "DUALTRACK_PROBES";

/// The descriptor the counter file is handed to a test as.
pub const PROBE_FD: i32 = 3;

/// One worker's counter file, reused test after test: unnamed (it lives only as long as the
/// worker holds it) and reached by the test through [`PROBE_FD`], never by a path.
#[derive(Debug)]
pub struct CounterFile {
    file: std::fs::File,
    len: u64,
    identity: String,
}

impl CounterFile {
    /// A zeroed counter file for `plan`, made in `dir` (on the host, outside any sandbox).
    pub fn create(dir: &Path, plan: &ProbePlan) -> std::io::Result<CounterFile> {
        use std::os::unix::fs::MetadataExt;
        std::fs::create_dir_all(dir)?;
        let file = tempfile::tempfile_in(dir)?;
        let len = plan.file_len();
        file.set_len(len)?;
        let metadata = file.metadata()?;
        Ok(CounterFile {
            file,
            len,
            identity: format!("fd:{PROBE_FD}:{}:{}", metadata.dev(), metadata.ino()),
        })
    }

    /// Another handle on the same file.
    pub fn try_clone(&self) -> std::io::Result<CounterFile> {
        Ok(CounterFile {
            file: self.file.try_clone()?,
            len: self.len,
            identity: self.identity.clone(),
        })
    }

    /// The variable that makes a test count into this file.
    pub fn env(&self) -> (String, String) {
        (PROBES_VAR.to_owned(), self.identity.clone())
    }

    pub fn file(&self) -> &std::fs::File {
        &self.file
    }

    /// Every counter back to zero, for the next test.
    pub fn reset(&self) -> std::io::Result<()> {
        self.file.set_len(0)?;
        self.file.set_len(self.len)
    }

    /// The counters as the last test left them.
    pub fn read(&self) -> std::io::Result<Vec<u8>> {
        use std::os::unix::fs::FileExt;
        let mut bytes = vec![0; self.len as usize];
        self.file.read_exact_at(&mut bytes, 0)?;
        Ok(bytes)
    }
}

/// The runtime module's name in each crate root.
const MODULE: &str = "__dualtrack_probes";

/// Which sites carry probes, where their text goes, and the crate roots that get the runtime.
#[derive(Debug, Clone, Default)]
pub struct ProbePlan {
    /// Site ids by counter slot.
    pub sites: Vec<String>,
    /// Insertions per file (relative to the workspace root), in the order they apply.
    files: BTreeMap<PathBuf, Vec<Insertion>>,
    /// Crate root files (relative) that get the runtime, with their edition.
    roots: BTreeMap<PathBuf, String>,
    /// Sites of probed functions that carry no probe, by function: why not.
    pub unprobed: BTreeMap<String, String>,
    /// The counter slots with text on each line (1-based) of each file: a compiler error
    /// there is theirs.
    lines: BTreeMap<PathBuf, BTreeMap<u32, Vec<usize>>>,
    /// Slots whose probes were taken out because they did not build.
    removed: std::collections::BTreeSet<usize>,
    /// The lines of each crate root before the runtime is appended: an error past them is the
    /// runtime's.
    root_lines: BTreeMap<PathBuf, u32>,
    /// Why the probes were taken out of the run, when they were.
    pub disabled: Option<String>,
    /// Every file the plan rewrote, kept when disabled: their own text goes back.
    rewritten: Vec<PathBuf>,
    /// Manifests (relative) whose `[lints]` forbid unsafe code: rewritten to deny it.
    manifests: std::collections::BTreeSet<PathBuf>,
}

/// Builds redone without the probes an error named, before the probes go altogether.
pub const MAX_PROBE_RETRIES: u32 = 3;

/// `src/lib.rs:12: use of moved value`: where the first of `errors` is, for a warning.
pub fn probe_error_place(errors: &[super::build::CompileError], copy: &Path) -> String {
    errors
        .first()
        .map(|error| {
            format!(
                "{}:{}: {}",
                error
                    .file
                    .strip_prefix(copy)
                    .unwrap_or(&error.file)
                    .display(),
                error.line,
                error.message.lines().next().unwrap_or_default()
            )
        })
        .unwrap_or_default()
}

/// What a run says about its probes.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProbeSummary {
    /// Sites that carried a probe.
    pub sites: usize,
    /// Functions (or crate roots) with sites no probe could go on, and why.
    pub unprobed: BTreeMap<String, String>,
    /// Why the probes were taken out, when they were: the run's outcomes stand, without
    /// evidence.
    pub disabled: Option<String>,
    /// The ids of the sites that carried a probe.
    #[serde(skip)]
    pub probed: std::collections::BTreeSet<String>,
}

impl ProbeSummary {
    /// One summary of two runs' (an offline pass and a model's tests): the sites either
    /// probed, and what either left out.
    pub fn merged(one: Option<ProbeSummary>, other: Option<ProbeSummary>) -> Option<ProbeSummary> {
        match (one, other) {
            // One run without evidence leaves its tests without any: the union would call
            // the sites they reached unreached.
            (Some(one), Some(_)) if one.disabled.is_some() => Some(one),
            (Some(_), Some(other)) if other.disabled.is_some() => Some(other),
            (Some(mut one), Some(other)) => {
                one.probed.extend(other.probed);
                one.sites = one.probed.len();
                for (function, why) in other.unprobed {
                    one.unprobed.entry(function).or_insert(why);
                }
                one.disabled = one.disabled.or(other.disabled);
                Some(one)
            }
            (one, other) => one.or(other),
        }
    }
}

/// Text inserted at a byte offset of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Insertion {
    /// The counter slot of the site it probes.
    site: usize,
    offset: usize,
    /// Orders insertions at one offset: closings first (the innermost first), then
    /// statements, then openings (the outermost first). Two sites of one span nest by their
    /// slots: the first opened is the last closed.
    rank: (u8, std::cmp::Reverse<usize>, isize),
    text: String,
}

impl ProbePlan {
    /// Probes on every site of the analyzed functions whose crates `crate_roots` (relative
    /// root file, edition) name, except where none may go. Crates whose root forbids unsafe
    /// code or has no `std` get none: the runtime needs both.
    pub fn new(
        workspace: &Workspace,
        analysis: &Analysis,
        crate_roots: &[(PathBuf, String)],
        parsed: &mut super::cache::ParsedTexts,
    ) -> ProbePlan {
        let mut plan = ProbePlan::default();
        let mut usable: BTreeMap<String, bool> = BTreeMap::new();
        for (root, edition) in crate_roots {
            let text = std::fs::read_to_string(workspace.root.join(root)).unwrap_or_default();
            let refused = refusal(&text).or_else(|| {
                (!inside(root) || !super::area::reached_without_links(&workspace.root, root))
                    .then_some(
                        "its crate root is outside the workspace or behind a symlinked directory",
                    )
            });
            plan.root_lines
                .insert(root.clone(), text.lines().count() as u32);
            if let Some(why) = refused {
                plan.unprobed
                    .insert(root.display().to_string(), why.to_owned());
            }
            usable.insert(crate_name_of(workspace, root), refused.is_none());
            if refused.is_none() {
                plan.roots.insert(root.clone(), edition.clone());
            }
        }
        for function in &analysis.functions {
            let crate_name = function.path.split("::").next().unwrap_or_default();
            if usable.get(crate_name) != Some(&true) {
                continue;
            }
            let mut without = 0;
            // A file outside the workspace, or reached through a linked directory, is not the
            // copy's to rewrite.
            let file = Path::new(&function.file);
            if !inside(file) || !super::area::reached_without_links(&workspace.root, file) {
                plan.unprobed.insert(
                    function.path.clone(),
                    "its file is outside the workspace or behind a symlinked directory".to_owned(),
                );
                continue;
            }
            for site in &function.sites {
                let Some(splice) = site.probe else {
                    without += 1;
                    continue;
                };
                let index = plan.sites.len();
                plan.sites.push(site.id.clone());
                plan.files
                    .entry(PathBuf::from(&site.file))
                    .or_default()
                    .extend(insertions(splice, index));
            }
            if without > 0 {
                plan.unprobed.insert(
                    function.path.clone(),
                    format!(
                        "{} evaluated at compile time (a const fn or const context) or \
                         written inside a macro's input",
                        crate::output::plural(without, "site")
                    ),
                );
            }
        }
        // A file whose probed text would not parse (a splice placed where the analyzer misread
        // the code) keeps its own text: its functions are said to be unprobed, and the run
        // goes on rather than failing where the tests go in.
        let mut unparsable: Vec<(PathBuf, String)> = Vec::new();
        for (file, insertions) in &mut plan.files {
            insertions.sort_by_key(|i| (i.offset, i.rank));
            let text = std::fs::read_to_string(workspace.root.join(file)).unwrap_or_default();
            if let Err(err) = parsed.parse(&spliced(&text, insertions)) {
                unparsable.push((
                    file.clone(),
                    format!(
                        "its probes would not parse at {}:{}:{} ({err})",
                        file.display(),
                        err.line,
                        err.column
                    ),
                ));
                continue;
            }
            // Where each line starts, so that an offset's line is a binary search away.
            let starts: Vec<usize> = std::iter::once(0)
                .chain(text.match_indices('\n').map(|(at, _)| at + 1))
                .collect();
            let mut lines: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
            for insertion in insertions.iter() {
                let line = starts.partition_point(|&start| start <= insertion.offset) as u32;
                lines.entry(line).or_default().push(insertion.site);
            }
            plan.lines.insert(file.clone(), lines);
        }
        for (file, why) in unparsable {
            if let Some(insertions) = plan.files.remove(&file) {
                plan.removed.extend(insertions.iter().map(|i| i.site));
            }
            for function in analysis
                .functions
                .iter()
                .filter(|f| Path::new(&f.file) == file)
            {
                plan.unprobed.insert(function.path.clone(), why.clone());
            }
        }
        // A `forbid` of unsafe code in a manifest's `[lints]` (the package's, or the
        // workspace's it inherits) would refuse the runtime's `allow`: those manifests are
        // rewritten too, to `deny`.
        for manifest in lint_manifests(workspace, &plan.roots) {
            plan.manifests.insert(manifest);
        }
        // A root file with no probe of its own still gets the runtime: its crate's other files
        // call it.
        plan.rewritten = plan
            .files
            .keys()
            .chain(plan.roots.keys())
            .chain(plan.manifests.iter())
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        // No crate could take them: the run says why it has no evidence.
        if plan.sites.is_empty() && plan.roots.is_empty() {
            plan.disabled = crate_roots
                .iter()
                .find_map(|(root, _)| plan.unprobed.get(&root.display().to_string()))
                .cloned();
        }
        plan
    }

    /// Take the probes out of the run (the files they were in get their own text back).
    pub fn disable(&mut self, why: String) {
        self.files.clear();
        self.roots.clear();
        self.manifests.clear();
        self.sites.clear();
        self.lines.clear();
        self.disabled = Some(why);
    }

    /// The counter slots whose probes a compiler error may be the doing of: those on the lines
    /// it names. `copy` is the scratch copy's root, which the error's paths are in. An error
    /// that names the probes' module but no probed line blames them all.
    pub fn culprits(&self, error: &super::build::CompileError, copy: &Path) -> Vec<usize> {
        if self.sites.is_empty() {
            return Vec::new();
        }
        let past_a_root_end = error.file.strip_prefix(copy).ok().is_some_and(|rel| {
            self.roots.contains_key(rel)
                && self
                    .root_lines
                    .get(rel)
                    .is_some_and(|&lines| error.line > lines)
        });
        let mut slots: Vec<usize> = std::iter::once((&error.file, error.line, error.line))
            .chain(
                error
                    .places
                    .iter()
                    .map(|(file, first, last)| (file, *first, *last)),
            )
            .filter_map(|(file, first, last)| {
                let lines = self.lines.get(file.strip_prefix(copy).ok()?)?;
                Some(
                    lines
                        .range(first..=last)
                        .flat_map(|(_, slots)| slots.iter().copied()),
                )
            })
            .flatten()
            .filter(|slot| !self.removed.contains(slot))
            .collect();
        if slots.is_empty() && (error.rendered.contains(MODULE) || past_a_root_end) {
            slots = (0..self.sites.len())
                .filter(|slot| !self.removed.contains(slot))
                .collect();
        }
        slots.sort_unstable();
        slots.dedup();
        slots
    }

    /// After the `tries`th build that failed on the probes of `slots`: those come out, the rest
    /// stay; past [`MAX_PROBE_RETRIES`] tries all go, and the warning to show is returned.
    /// `said` is the error, as [`probe_error_place`] gives it.
    pub fn failed_build(&mut self, slots: &[usize], tries: u32, said: String) -> Option<String> {
        if tries > MAX_PROBE_RETRIES {
            let warning = format!(
                "warning: the site probes do not build here ({said}); the tests run without them"
            );
            self.disable(said);
            Some(warning)
        } else {
            self.remove(slots);
            None
        }
    }

    /// Take out the probes of `slots` (they did not build); the rest stay.
    pub fn remove(&mut self, slots: &[usize]) {
        self.removed.extend(slots.iter().copied());
        for insertions in self.files.values_mut() {
            insertions.retain(|i| !self.removed.contains(&i.site));
        }
    }

    /// No site carries a probe.
    pub fn is_empty(&self) -> bool {
        self.sites.is_empty()
    }

    /// The summary a run report carries.
    pub fn summary(&self) -> ProbeSummary {
        let probed: std::collections::BTreeSet<String> = self
            .sites
            .iter()
            .enumerate()
            .filter(|(slot, _)| !self.removed.contains(slot))
            .map(|(_, id)| id.clone())
            .collect();
        let mut unprobed = self.unprobed.clone();
        for slot in &self.removed {
            if let Some(function) = self.sites.get(*slot).and_then(|id| id.split('#').next()) {
                unprobed
                    .entry(function.to_owned())
                    .or_insert_with(|| "a probe did not build here".to_owned());
            }
        }
        ProbeSummary {
            sites: probed.len(),
            unprobed,
            disabled: self.disabled.clone(),
            probed,
        }
    }

    /// The files (relative) this plan rewrites, or rewrote before it was disabled.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.rewritten.iter().map(PathBuf::as_path)
    }

    /// `text`, the copy's text of `file` (relative; the analyzed text, so the offsets hold),
    /// with its probes spliced in, and the runtime appended when it is a crate root.
    /// Byte ranges of `file`'s own `text` at the offsets [`Self::apply`] moves them to: an
    /// insertion at a range's start goes before it, one at its end after it, and those inside
    /// are inside it.
    pub fn shifted(
        &self,
        file: &Path,
        text: &str,
        ranges: &[(usize, usize)],
    ) -> Vec<(usize, usize)> {
        let base = if text.starts_with('\u{feff}') { 3 } else { 0 };
        let insertions: Vec<(usize, usize)> = self
            .files
            .get(file)
            .into_iter()
            .flatten()
            .map(|i| (i.offset + base, i.text.len()))
            .filter(|(offset, _)| *offset <= text.len() && text.is_char_boundary(*offset))
            .collect();
        let moved = |at: usize, inclusive: bool| -> usize {
            at + insertions
                .iter()
                .filter(|(offset, _)| {
                    if inclusive {
                        *offset <= at
                    } else {
                        *offset < at
                    }
                })
                .map(|(_, len)| len)
                .sum::<usize>()
        };
        ranges
            .iter()
            .map(|&(start, end)| (moved(start, true), moved(end, false)))
            .collect()
    }

    pub fn apply(&self, file: &Path, text: &str) -> String {
        let mut out = spliced(text, self.files.get(file).map_or(&[][..], Vec::as_slice));
        if self.manifests.contains(file) {
            return relax_forbidden_lints(&out);
        }
        if let Some(edition) = self.roots.get(file) {
            out = relax_forbidden_unsafe(&out);
            if !out.ends_with('\n') {
                out.push('\n');
            }
            // `allow(warnings)` does not reach what the root denies by name.
            let allow = super::lints::allow_attribute(&super::lints::denied_in_source(&out));
            out.push_str(&runtime(self.sites.len(), edition).replacen(
                "#[allow(warnings, clippy::all)]",
                &allow,
                1,
            ));
        }
        out
    }

    /// The site id of each counter slot the copy's `hit(N)` calls name, as a JSON array, in
    /// `path`: for a reader of the scratch copy (a debugger, a coverage comparison).
    pub fn write_slots(&self, path: &Path) -> anyhow::Result<()> {
        let slots: Vec<Option<&str>> = self
            .sites
            .iter()
            .enumerate()
            .map(|(slot, id)| (!self.removed.contains(&slot)).then_some(id.as_str()))
            .collect();
        let text = serde_json::to_string_pretty(&slots).expect("strings serialize");
        crate::output::write_atomically(path, &text)
    }

    /// What tells a build with these probes from one without, for the build cache.
    pub fn stamp(&self) -> String {
        format!("probes:{}", self.sites.len())
    }

    /// The site ids a test's counter file holds as reached.
    pub fn reached(&self, counters: &[u8]) -> Vec<String> {
        counters
            .chunks_exact(4)
            .zip(&self.sites)
            .enumerate()
            .filter(|(slot, (count, _))| {
                !self.removed.contains(slot) && count.iter().any(|&b| b != 0)
            })
            .map(|(_, (_, id))| id.clone())
            .collect()
    }

    /// Bytes of one test's counter file.
    pub fn file_len(&self) -> u64 {
        self.sites.len() as u64 * 4
    }
}

/// `text` with `insertions` (in order) spliced in at their offsets.
fn spliced(text: &str, insertions: &[Insertion]) -> String {
    let mut out = String::with_capacity(text.len() + 1024);
    let mut copied = 0;
    // The analyzer read the text without its byte-order mark.
    let base = if text.starts_with('\u{feff}') { 3 } else { 0 };
    for insertion in insertions {
        let offset = insertion.offset + base;
        if offset > text.len() || !text.is_char_boundary(offset) {
            continue;
        }
        out.push_str(&text[copied..offset]);
        out.push_str(&insertion.text);
        copied = offset;
    }
    out.push_str(&text[copied..]);
    out
}

/// Whether `path` (relative to the workspace) lies inside it: no root, no `..`.
fn inside(path: &Path) -> bool {
    path.components().all(|c| {
        matches!(
            c,
            std::path::Component::Normal(_) | std::path::Component::CurDir
        )
    })
}

/// Why a crate root cannot take the runtime, if it cannot.
fn refusal(root_text: &str) -> Option<&'static str> {
    let compact: String = root_text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.contains("#![no_core]") {
        Some("a `no_core` crate: the probes' counter file needs std")
    } else {
        None
    }
}

/// A crate root's `#![forbid(..)]` that names `unsafe_code` made `#![deny  (..)]`, the same
/// length: the runtime module may then allow the unsafe code it needs. The crate's own code
/// is held to the same rule (it built under `forbid`, so it has no `allow` that `deny` would
/// let through).
fn relax_forbidden_unsafe(text: &str) -> String {
    let mut out = text.to_owned();
    let mut from = 0;
    while let Some(found) = out[from..].find("#![") {
        let start = from + found;
        let Some(length) = out[start..].find(']') else {
            break;
        };
        // The attribute's text up to its first `]`: enough for `forbid(unsafe_code, ..)`.
        let end = start + length;
        let attribute = &out[start..end];
        if attribute.contains("unsafe_code")
            && let Some(at) = attribute.find("forbid")
        {
            out.replace_range(start + at..start + at + "forbid".len(), "deny  ");
        }
        from = end;
    }
    out
}

/// The manifests (relative to the workspace root) of the packages whose crate roots get the
/// runtime, and the workspace's own, that forbid unsafe code in their lint tables.
fn lint_manifests(workspace: &Workspace, roots: &BTreeMap<PathBuf, String>) -> Vec<PathBuf> {
    let mut candidates: Vec<PathBuf> = vec![PathBuf::from("Cargo.toml")];
    for package in &workspace.packages {
        let owns_a_root = package.targets.iter().any(|t| {
            let root = t
                .root_file
                .strip_prefix(&workspace.root)
                .unwrap_or(&t.root_file);
            roots.contains_key(root)
        });
        if let Ok(dir) = package.manifest_dir.strip_prefix(&workspace.root)
            && owns_a_root
        {
            candidates.push(dir.join("Cargo.toml"));
        }
    }
    candidates.sort();
    candidates.dedup();
    candidates
        .into_iter()
        .filter(|manifest| inside(manifest))
        .filter(|manifest| {
            let text = std::fs::read_to_string(workspace.root.join(manifest)).unwrap_or_default();
            relax_forbidden_lints(&text) != text
        })
        .collect()
}

/// A manifest's text with `unsafe_code = "forbid"` (or `{ level = "forbid", .. }`) as
/// `"deny"`: the runtime's `allow(unsafe_code)` may override a deny, never a forbid.
fn relax_forbidden_lints(text: &str) -> String {
    // Line by line with each line's own ending, so that a CRLF manifest stays byte for byte
    // what it was where nothing forbids.
    text.split_inclusive('\n')
        .map(|line| {
            let key = line.trim_start();
            let is_unsafe_code = key
                .strip_prefix("unsafe_code")
                .is_some_and(|rest| rest.trim_start().starts_with('='));
            if is_unsafe_code {
                line.replacen("\"forbid\"", "\"deny\"", 1)
                    .replacen("'forbid'", "'deny'", 1)
            } else {
                line.to_owned()
            }
        })
        .collect()
}

/// The crate name (as site ids begin) of the target whose root file is `root`.
fn crate_name_of(workspace: &Workspace, root: &Path) -> String {
    workspace
        .packages
        .iter()
        .flat_map(|p| &p.targets)
        .find(|t| {
            t.root_file
                .strip_prefix(&workspace.root)
                .unwrap_or(&t.root_file)
                == root
        })
        .map(|t| t.crate_name.clone())
        .unwrap_or_default()
}

/// The text a splice inserts for the site in counter slot `index`.
fn insertions(splice: Splice, index: usize) -> Vec<Insertion> {
    let hit = format!("crate::{MODULE}::hit({index});");
    // Text before and after `start..end`, ranked so that spans nest.
    let around = |start: usize, end: usize, open: String, close: &str| {
        vec![
            Insertion {
                site: index,
                offset: start,
                rank: (2, std::cmp::Reverse(end), index as isize),
                text: open,
            },
            Insertion {
                site: index,
                offset: end,
                rank: (0, std::cmp::Reverse(start), -(index as isize)),
                text: close.to_owned(),
            },
        ]
    };
    match splice {
        Splice::Statement(offset) => vec![Insertion {
            site: index,
            offset,
            rank: (1, std::cmp::Reverse(0), 0),
            text: format!(" {hit} "),
        }],
        Splice::Wrap { start, end } => around(start, end, format!("{{ {hit} "), " }"),
        // A call goes through a block, not a generic function: one function instantiated per
        // type at thousands of sites is what a build pays for. Parenthesized: a block at the
        // start of a statement would end there.
        Splice::Pass {
            start,
            end,
            breaks: false,
        } => around(start, end, format!("({{ {hit} "), " })"),
        Splice::Pass {
            start,
            end,
            breaks: true,
        } => around(start, end, format!("crate::{MODULE}::tried({index}, "), ")"),
    }
}

/// The runtime module for a crate of `edition` with `sites` counter slots: std only, no
/// dependency, every lint allowed (the crate's own `deny`s must not trip on it), std named by a
/// path of its own so that a `no_std` crate takes it too.
fn runtime(sites: usize, edition: &str) -> String {
    runtime_text(sites, edition).replace("::std::", &format!("crate::{MODULE}::__std::"))
}

/// What tells one runtime's text from another's, for the baseline's cache.
pub fn runtime_stamp() -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(runtime_text(0, "2021"));
    super::cache::hex(&digest[..8])
}

fn runtime_text(sites: usize, edition: &str) -> String {
    // `unsafe extern` is required from 2024 and refused by older compilers before it.
    let extern_block = if edition >= "2024" {
        "unsafe extern"
    } else {
        "extern"
    };
    format!(
        r#"#[doc(hidden)]
#[allow(warnings, clippy::all)]
#[allow(unsafe_code)]
pub(crate) mod {MODULE} {{
    // std by a path of the module's own: a `no_std` crate's tests have std, but not in scope.
    extern crate std as __std;
    const SITES: usize = {sites};
    static MAP: ::std::sync::atomic::AtomicPtr<::std::sync::atomic::AtomicU32> =
        ::std::sync::atomic::AtomicPtr::new(0 as *mut ::std::sync::atomic::AtomicU32);
    // 0 not yet opened, 1 opening, 2 open, 3 no counter file.
    static STATE: ::std::sync::atomic::AtomicUsize = ::std::sync::atomic::AtomicUsize::new(0);
    #[cfg(unix)]
    {extern_block} "C" {{
        fn mmap(addr: *mut u8, len: usize, prot: i32, flags: i32, fd: i32, offset: i64) -> *mut u8;
    }}
    pub(crate) fn hit(site: usize) {{
        use ::std::sync::atomic::Ordering;
        if fuzz::FUZZING.load(Ordering::Relaxed) {{
            fuzz_count(site);
        }}
        let mut map = MAP.load(Ordering::Acquire);
        if map.is_null() {{
            if STATE.load(Ordering::Relaxed) == 3 {{
                return;
            }}
            map = open();
        }}
        if !map.is_null() && site < SITES {{
            // Reached or not is what is read: a store once, not a shared add every time.
            let counter = unsafe {{ &*map.add(site) }};
            if counter.load(Ordering::Relaxed) == 0 {{
                counter.store(1, Ordering::Relaxed);
            }}
        }}
    }}
    #[inline]
    pub(crate) fn tried<T: Breaks>(site: usize, value: T) -> T {{
        if value.breaks() {{
            hit(site);
        }}
        value
    }}
    pub(crate) trait Breaks {{
        fn breaks(&self) -> bool;
    }}
    impl<T, E> Breaks for ::std::result::Result<T, E> {{
        fn breaks(&self) -> bool {{ self.is_err() }}
    }}
    impl<T> Breaks for ::std::option::Option<T> {{
        fn breaks(&self) -> bool {{ self.is_none() }}
    }}
    impl<T, E> Breaks for ::std::task::Poll<::std::result::Result<T, E>> {{
        fn breaks(&self) -> bool {{ match self {{ ::std::task::Poll::Ready(Err(_)) => true, _ => false }} }}
    }}
    impl<T, E> Breaks for ::std::task::Poll<::std::option::Option<::std::result::Result<T, E>>> {{
        fn breaks(&self) -> bool {{ match self {{ ::std::task::Poll::Ready(Some(Err(_))) => true, _ => false }} }}
    }}
    impl<B, C> Breaks for ::std::ops::ControlFlow<B, C> {{
        fn breaks(&self) -> bool {{ match self {{ ::std::ops::ControlFlow::Break(_) => true, _ => false }} }}
    }}
    #[cold]
    fn open() -> *mut ::std::sync::atomic::AtomicU32 {{
        use ::std::sync::atomic::Ordering;
        // Another thread opening it (or this one, re-entered from an allocator the crate
        // defines) does not wait: that hit goes uncounted.
        if STATE.compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire).is_err() {{
            return MAP.load(Ordering::Acquire);
        }}
        let map = map_file();
        MAP.store(map, Ordering::Release);
        STATE.store(if map.is_null() {{ 3 }} else {{ 2 }}, Ordering::Release);
        map
    }}
    #[cfg(unix)]
    fn map_file() -> *mut ::std::sync::atomic::AtomicU32 {{
        use ::std::os::unix::fs::MetadataExt;
        use ::std::os::unix::io::FromRawFd;
        let null = 0 as *mut ::std::sync::atomic::AtomicU32;
        // `fd:N:DEV:INO`: the descriptor, and the file it must be.
        let wanted = match ::std::env::var("{PROBES_VAR}") {{
            Ok(wanted) => wanted,
            Err(_) => return null,
        }};
        let parts: ::std::vec::Vec<&str> = wanted.split(':').collect();
        let number = |text: &str| text.parse::<u64>().ok();
        if parts.len() != 4 || parts[0] != "fd" {{
            return null;
        }}
        let fd: i32 = match parts[1].parse() {{
            Ok(fd) => fd,
            Err(_) => return null,
        }};
        let file = unsafe {{ ::std::fs::File::from_raw_fd(fd) }};
        let same = match file.metadata() {{
            Ok(metadata) => {{
                number(parts[2]) == Some(metadata.dev())
                    && number(parts[3]) == Some(metadata.ino())
                    && metadata.len() >= (SITES * 4) as u64
            }}
            Err(_) => false,
        }};
        // The descriptor is not ours to close, whatever it is.
        ::std::mem::forget(file);
        if !same {{
            return null;
        }}
        // PROT_READ | PROT_WRITE, MAP_SHARED.
        let map = unsafe {{ mmap(0 as *mut u8, SITES * 4, 3, 1, fd, 0) }};
        if map as isize == -1 {{ null }} else {{ map as *mut ::std::sync::atomic::AtomicU32 }}
    }}
    #[cfg(not(unix))]
    fn map_file() -> *mut ::std::sync::atomic::AtomicU32 {{
        0 as *mut ::std::sync::atomic::AtomicU32
    }}
{driver}}}
"#,
        driver = super::fuzz_runtime::DRIVER
    )
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn a_blanked_range_moves_with_the_probes_before_it_and_takes_those_inside() {
        let text = "fn a() { x }\nfn b() { y }\n";
        let mut plan = ProbePlan::default();
        plan.files.insert(
            PathBuf::from("src/lib.rs"),
            vec![
                Insertion {
                    site: 0,
                    offset: 9,
                    rank: (1, std::cmp::Reverse(0), 0),
                    text: "P;".into(),
                },
                Insertion {
                    site: 1,
                    offset: 22,
                    rank: (1, std::cmp::Reverse(0), 0),
                    text: "Q;".into(),
                },
            ],
        );
        let probed = plan.apply(Path::new("src/lib.rs"), text);
        assert_eq!(probed, "fn a() { P;x }\nfn b() { Q;y }\n");
        // `fn b` (13..25) blanked: after `P;`, and `Q;` inside it goes with it.
        let moved = plan.shifted(Path::new("src/lib.rs"), text, &[(13, 25)]);
        assert_eq!(moved, [(15, 29)]);
        assert_eq!(&probed[15..29], "fn b() { Q;y }");
    }

    fn plan_of(file: &str, splices: &[(Splice, &str)]) -> ProbePlan {
        let mut plan = ProbePlan::default();
        for (index, (splice, id)) in splices.iter().enumerate() {
            plan.sites.push((*id).to_owned());
            plan.files
                .entry(PathBuf::from(file))
                .or_default()
                .extend(insertions(*splice, index));
        }
        for insertions in plan.files.values_mut() {
            insertions.sort_by_key(|i| (i.offset, i.rank));
        }
        plan
    }

    #[test]
    fn two_sites_of_one_span_nest_by_their_slots() {
        // `v[x.unwrap()]`: the index's argument and the `unwrap` are one span (pulldown-cmark's
        // `self.tree[self.tree.peek_up().unwrap()]`).
        let text = "fn f(v: &[u8], x: Option<usize>) -> u8 {\n    v[x.unwrap()]\n}\n";
        let start = text.find("x.unwrap").unwrap();
        let end = start + "x.unwrap()".len();
        let plan = plan_of(
            "src/lib.rs",
            &[
                (Splice::Wrap { start, end }, "c::f#panic1"),
                (
                    Splice::Pass {
                        start,
                        end,
                        breaks: false,
                    },
                    "c::f#panic2",
                ),
            ],
        );
        let probed = plan.apply(Path::new("src/lib.rs"), text);
        assert!(crate::syntax::parse_file(&probed).is_ok(), "{probed}");
        assert!(
            probed.contains("hit(0); ({ crate::__dualtrack_probes::hit(1); x.unwrap() }) }"),
            "{probed}"
        );
    }

    #[test]
    fn nested_splices_at_one_offset_nest_and_no_line_moves() {
        // `return a / b`: the return wrapped, the divisor passed, both ending at one offset.
        let text = "fn f(a: u8, b: u8) -> u8 {\n    return a / b\n}\n";
        let ret = text.find("return").unwrap();
        let divisor = text.find("b\n").unwrap();
        let plan = plan_of(
            "src/lib.rs",
            &[
                (
                    Splice::Wrap {
                        start: ret,
                        end: divisor + 1,
                    },
                    "c::f#return1",
                ),
                (
                    Splice::Wrap {
                        start: divisor,
                        end: divisor + 1,
                    },
                    "c::f#panic1",
                ),
            ],
        );
        let probed = plan.apply(Path::new("src/lib.rs"), text);
        assert_eq!(
            probed,
            "fn f(a: u8, b: u8) -> u8 {\n    { crate::__dualtrack_probes::hit(0); return a / \
             { crate::__dualtrack_probes::hit(1); b } }\n}\n"
        );
        assert_eq!(probed.lines().count(), text.lines().count());
    }

    #[test]
    fn a_statement_goes_before_an_operand_opened_at_the_same_place() {
        // A tail `x.unwrap()`: the tail's statement, then the receiver passed.
        let text = "fn f(x: Option<u8>) -> u8 {\n    x.unwrap()\n}\n";
        let tail = text.find("x.unwrap").unwrap();
        let plan = plan_of(
            "src/lib.rs",
            &[
                (
                    Splice::Pass {
                        start: tail,
                        end: tail + 1,
                        breaks: false,
                    },
                    "c::f#panic1",
                ),
                (Splice::Statement(tail), "c::f#tail1"),
            ],
        );
        assert_eq!(
            plan.apply(Path::new("src/lib.rs"), text),
            "fn f(x: Option<u8>) -> u8 {\n     crate::__dualtrack_probes::hit(1); \
             ({ crate::__dualtrack_probes::hit(0); x }).unwrap()\n}\n"
        );
        // Another file is left alone.
        assert_eq!(plan.apply(Path::new("src/other.rs"), text), text);
    }

    #[test]
    fn counters_read_as_the_sites_reached() {
        let plan = plan_of(
            "src/lib.rs",
            &[
                (Splice::Statement(0), "c::f#if1"),
                (Splice::Statement(0), "c::f#if2"),
                (Splice::Statement(0), "c::f#tail1"),
            ],
        );
        let counters = [0, 0, 0, 0, 7, 0, 0, 0, 0, 1, 0, 0];
        assert_eq!(plan.reached(&counters), ["c::f#if2", "c::f#tail1"]);
        assert_eq!(plan.file_len(), 12);
    }

    #[test]
    fn crates_the_runtime_cannot_serve_are_refused() {
        assert!(refusal("#![no_core]\n").is_some());
        assert!(refusal("#![no_std]\n").is_none());
        assert!(refusal("#![forbid(unsafe_code)]\npub fn f() {}").is_none());
    }

    #[test]
    fn a_manifest_forbid_of_unsafe_code_becomes_a_deny() {
        let text = "[lints.rust]\nunsafe_code = \"forbid\"\nmissing_docs = \"forbid\"\n\n\
                    [workspace.lints.rust]\n  unsafe_code = { level = \"forbid\", priority = 1 }\n";
        assert_eq!(
            relax_forbidden_lints(text),
            "[lints.rust]\nunsafe_code = \"deny\"\nmissing_docs = \"forbid\"\n\n\
             [workspace.lints.rust]\n  unsafe_code = { level = \"deny\", priority = 1 }\n"
        );
        let untouched = "[package]\r\nname = \"unsafe_code\"\r\n";
        assert_eq!(relax_forbidden_lints(untouched), untouched);
        assert_eq!(
            relax_forbidden_lints("[lints.rust]\r\nunsafe_code = 'forbid'\r\n"),
            "[lints.rust]\r\nunsafe_code = 'deny'\r\n"
        );
    }

    #[test]
    fn a_forbid_of_unsafe_code_becomes_a_deny_of_the_same_length() {
        let text = "//! Docs.\n#![forbid(missing_docs, unsafe_code)]\n#![forbid(unused)]\n\
                    #![cfg_attr(docsrs, forbid(unsafe_code))]\npub fn f() {}\n";
        let relaxed = relax_forbidden_unsafe(text);
        assert_eq!(
            relaxed,
            "//! Docs.\n#![deny  (missing_docs, unsafe_code)]\n#![forbid(unused)]\n\
             #![cfg_attr(docsrs, deny  (unsafe_code))]\npub fn f() {}\n"
        );
        assert_eq!(relaxed.len(), text.len());
    }
}
