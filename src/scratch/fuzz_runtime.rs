//! The fuzz driver's text: a std-only module the probes' runtime carries into each crate root
//! of the scratch copy (never the user's tree). A generated harness test hands it a decoder
//! of typed arguments and the call; it mutates byte inputs, keeps those that reach new sites
//! or hit-count buckets (the probes count per input while it runs), catches each panic,
//! minimizes it, and prints what it found as `DUALTRACK-FUZZ` lines on its standard error
//! (the sandbox keeps what a test writes to disk from the host; a line printed before an abort
//! still arrives). Written with `::std::` paths only, as the runtime is: they are rewritten to
//! the runtime's own std. No value is left unused: a crate may `forbid(unused_results)`.

/// The module's source, inside the probes' runtime module (`super` is the runtime).
pub const DRIVER: &str = r####"
    #[inline]
    pub(crate) fn fuzz_count(site: usize) {
        use ::std::sync::atomic::Ordering;
        if site < SITES && fuzz::COUNTS[site].fetch_add(1, Ordering::Relaxed) == 0 {
            let at = fuzz::TOUCHED_LEN.fetch_add(1, Ordering::Relaxed);
            if at < SITES {
                fuzz::TOUCHED[at].store(site as u32, Ordering::Relaxed);
            }
        }
    }
    pub(crate) mod fuzz {
        use ::std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
        use ::std::vec::Vec;
        use ::std::string::String;
        use ::std::string::ToString;
        use ::std::boxed::Box;
        use super::SITES;

        pub(crate) static FUZZING: AtomicBool = AtomicBool::new(false);
        const ZERO: AtomicU32 = AtomicU32::new(0);
        pub(crate) static COUNTS: [AtomicU32; SITES] = [ZERO; SITES];
        pub(crate) static TOUCHED: [AtomicU32; SITES] = [ZERO; SITES];
        pub(crate) static TOUCHED_LEN: AtomicUsize = AtomicUsize::new(0);
        /// The panic of the input that ran last: `file:line`, and its message.
        static PANIC: ::std::sync::Mutex<Option<(String, String)>> = ::std::sync::Mutex::new(None);
        /// For the watchdog: the input running now, the moment it started (ms since the start,
        /// 0 for none) and how many ran.
        static CURRENT: ::std::sync::Mutex<Vec<u8>> = ::std::sync::Mutex::new(Vec::new());
        static STARTED_MS: AtomicU64 = AtomicU64::new(0);

        const MAX_LEN: usize = 4096;
        const MAX_CORPUS: usize = 4096;
        /// Inputs between two heartbeats (`at N`): where a replay starts saying its inputs.
        const HEARTBEAT: u64 = 1000;
        /// New inputs printed for the saved corpus, at most.
        const MAX_SAVED: usize = 500;

        /// Typed values read from an input's bytes; past the end, zeros.
        pub(crate) struct Input<'a> {
            data: &'a [u8],
            at: usize,
        }

        macro_rules! reads {
            ($($name:ident: $t:ty),*) => {$(
                pub(crate) fn $name(&mut self) -> $t {
                    let mut bytes = [0u8; ::std::mem::size_of::<$t>()];
                    for b in bytes.iter_mut() {
                        *b = self.byte();
                    }
                    <$t>::from_le_bytes(bytes)
                }
            )*};
        }

        impl<'a> Input<'a> {
            pub(crate) fn new(data: &'a [u8]) -> Input<'a> {
                Input { data: data, at: 0 }
            }
            pub(crate) fn byte(&mut self) -> u8 {
                let b = self.data.get(self.at).cloned().unwrap_or(0);
                self.at += 1;
                b
            }
            reads!(u8: u8, u16: u16, u32: u32, u64: u64, u128: u128, usize: usize,
                   i8: i8, i16: i16, i32: i32, i64: i64, i128: i128, isize: isize);
            pub(crate) fn bool(&mut self) -> bool {
                self.byte() & 1 == 1
            }
            /// A size, a count or an index: small, so that it does not only allocate.
            pub(crate) fn size(&mut self) -> usize {
                (self.u16() % 4097) as usize
            }
            /// How many elements a collection gets.
            pub(crate) fn len(&mut self) -> usize {
                (self.byte() % 17) as usize
            }
            pub(crate) fn f32(&mut self) -> f32 {
                f32::from_bits(self.u32())
            }
            pub(crate) fn f64(&mut self) -> f64 {
                f64::from_bits(self.u64())
            }
            pub(crate) fn char(&mut self) -> char {
                let first = self.byte();
                if first < 0x80 {
                    return first as char;
                }
                let v = u32::from_le_bytes([self.byte(), self.byte(), self.byte(), 0]);
                ::std::char::from_u32(v % 0x11_0000).unwrap_or('\u{fffd}')
            }
            /// Raw bytes: the rest of the input when `last`, else a length byte's worth.
            pub(crate) fn bytes(&mut self, last: bool) -> Vec<u8> {
                let rest = self.data.len().saturating_sub(self.at);
                let n = if last { rest } else { (self.byte() as usize).min(self.data.len().saturating_sub(self.at)) };
                let start = self.at.min(self.data.len());
                let out = self.data[start..start + n].to_vec();
                self.at += n;
                out
            }
            pub(crate) fn string(&mut self, last: bool) -> String {
                String::from_utf8_lossy(&self.bytes(last)).into_owned()
            }
        }

        /// Seed inputs, written as the decoder reads.
        pub(crate) struct Seeds {
            all: Vec<Vec<u8>>,
        }

        macro_rules! writes {
            ($($name:ident: $t:ty),*) => {$(
                pub(crate) fn $name(&mut self, v: $t) {
                    self.current().extend_from_slice(&v.to_le_bytes());
                }
            )*};
        }

        impl Seeds {
            /// Start the next seed.
            pub(crate) fn next(&mut self) {
                self.all.push(Vec::new());
            }
            fn current(&mut self) -> &mut Vec<u8> {
                if self.all.is_empty() {
                    self.all.push(Vec::new());
                }
                self.all.last_mut().unwrap()
            }
            writes!(u8: u8, u16: u16, u32: u32, u64: u64, u128: u128, usize: usize,
                    i8: i8, i16: i16, i32: i32, i64: i64, i128: i128, isize: isize);
            pub(crate) fn bool(&mut self, v: bool) {
                self.current().push(v as u8);
            }
            pub(crate) fn size(&mut self, v: usize) {
                self.u16((v % 4097) as u16);
            }
            pub(crate) fn len(&mut self, v: usize) {
                self.current().push((v % 17) as u8);
            }
            pub(crate) fn f32(&mut self, v: f32) {
                self.u32(v.to_bits());
            }
            pub(crate) fn f64(&mut self, v: f64) {
                self.u64(v.to_bits());
            }
            pub(crate) fn char(&mut self, v: char) {
                let v = v as u32;
                if v < 0x80 {
                    self.current().push(v as u8);
                } else {
                    self.current().push(0x80);
                    let b = v.to_le_bytes();
                    self.current().extend_from_slice(&b[..3]);
                }
            }
            pub(crate) fn bytes(&mut self, v: &[u8], last: bool) {
                let v = if last { v } else { &v[..v.len().min(255)] };
                if !last {
                    self.current().push(v.len() as u8);
                }
                self.current().extend_from_slice(v);
            }
            pub(crate) fn string(&mut self, v: &str, last: bool) {
                self.bytes(v.as_bytes(), last);
            }
        }

        /// Rust literals of decoded values, for the regression test.
        pub(crate) fn lit_int<T: ::std::fmt::Display>(v: T, ty: &str) -> String {
            ::std::format!("{}{}", v, ty)
        }
        pub(crate) fn lit_f64(v: f64, ty: &str) -> String {
            if v.is_nan() {
                ::std::format!("{}::NAN", ty)
            } else if v == f64::INFINITY {
                ::std::format!("{}::INFINITY", ty)
            } else if v == f64::NEG_INFINITY {
                ::std::format!("{}::NEG_INFINITY", ty)
            } else {
                ::std::format!("{:?}{}", v, ty)
            }
        }
        pub(crate) fn lit_f32(v: f32, ty: &str) -> String {
            if v.is_nan() || v.is_infinite() {
                return lit_f64(v as f64, ty);
            }
            ::std::format!("{:?}{}", v, ty)
        }
        pub(crate) fn lit_str(v: &str) -> String {
            ::std::format!("{:?}", v)
        }
        pub(crate) fn lit_char(v: char) -> String {
            ::std::format!("{:?}", v)
        }
        pub(crate) fn lit_list(items: Vec<String>) -> String {
            items.join(", ")
        }

        struct Rng(u64);
        impl Rng {
            fn next(&mut self) -> u64 {
                // xorshift64*
                let mut x = self.0;
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                self.0 = x;
                x.wrapping_mul(0x2545_f491_4f6c_dd1d)
            }
            fn below(&mut self, n: usize) -> usize {
                if n == 0 { 0 } else { (self.next() % n as u64) as usize }
            }
        }

        fn fnv(text: &str) -> u64 {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            for b in text.bytes() {
                h ^= b as u64;
                h = h.wrapping_mul(0x100_0000_01b3);
            }
            h
        }

        const INTERESTING: &[u64] = &[
            0, 1, 2, 7, 8, 9, 10, 15, 16, 31, 32, 63, 64, 100, 127, 128, 255, 256, 1000, 1024,
            4096, 32767, 32768, 65535, 65536, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff,
            0x7fff_ffff_ffff_ffff, 0x8000_0000_0000_0000, u64::MAX, u64::MAX - 1,
        ];

        // Separators and brackets any text format has; and characters of 2, 3 and 4 bytes,
        // for code that slices text at a byte count (`&s[..3]` inside a `é` panics).
        const COMMON: &[&[u8]] = &[
            b" ", b"\n", b"\t", b",", b";", b"=", b":", b".", b"-", b"+", b"0", b"1", b"9",
            b"\"", b"'", b"(", b")", b"[", b"]", b"{", b"}", b"\\", b"/", b"%", b"&", b"\0",
            "\u{e9}".as_bytes(), "\u{20ac}".as_bytes(), "\u{1f980}".as_bytes(),
        ];

        fn mutate(rng: &mut Rng, input: &mut Vec<u8>, dict: &[&[u8]], corpus: &[Vec<u8>]) {
            // Now and then a sentence instead: a few words of the input's language (its
            // tokens, numbers, brackets) joined by one separator, as a grammar would write.
            if rng.below(8) == 0 {
                input.clear();
                let separator: &[u8] = [&b" "[..], b"", b",", b"\n", b"=", b":"][rng.below(6)];
                for word in 0..1 + rng.below(4) {
                    if word > 0 {
                        input.extend_from_slice(separator);
                    }
                    let token = if !dict.is_empty() && rng.below(2) == 0 {
                        dict[rng.below(dict.len())]
                    } else {
                        COMMON[rng.below(COMMON.len())]
                    };
                    input.extend_from_slice(token);
                }
                return;
            }
            let rounds = 1 << rng.below(4);
            for _ in 0..rounds {
                let len = input.len();
                match rng.below(12) {
                    0 if len > 0 => {
                        let at = rng.below(len);
                        input[at] ^= 1 << rng.below(8);
                    }
                    1 if len > 0 => {
                        let at = rng.below(len);
                        input[at] = rng.next() as u8;
                    }
                    2 if len > 0 => {
                        let at = rng.below(len);
                        let delta = 1 + rng.below(16) as u8;
                        input[at] = if rng.below(2) == 0 { input[at].wrapping_add(delta) } else { input[at].wrapping_sub(delta) };
                    }
                    3 => {
                        // An integer toward a limit, 1, 2, 4 or 8 bytes, little-endian.
                        let width = 1 << rng.below(4);
                        let mut value = INTERESTING[rng.below(INTERESTING.len())];
                        if rng.below(2) == 0 {
                            value = value.wrapping_neg();
                        }
                        let bytes = value.to_le_bytes();
                        let at = if len == 0 { 0 } else { rng.below(len) };
                        for i in 0..width {
                            if at + i < input.len() {
                                input[at + i] = bytes[i];
                            } else {
                                input.push(bytes[i]);
                            }
                        }
                    }
                    4 | 5 => {
                        // The function's own tokens first; separators and brackets any text
                        // format has, else.
                        let token = if !dict.is_empty() && rng.below(3) < 2 {
                            dict[rng.below(dict.len())]
                        } else {
                            COMMON[rng.below(COMMON.len())]
                        };
                        let at = rng.below(len + 1);
                        if rng.below(2) == 0 || at + token.len() > len {
                            // Text formats separate their words: a token lands with a space on
                            // one side as often as bare.
                            let tail = input.split_off(at);
                            let spaced = rng.below(4);
                            if spaced == 0 {
                                input.push(b' ');
                            }
                            input.extend_from_slice(token);
                            if spaced == 1 {
                                input.push(b' ');
                            }
                            input.extend_from_slice(&tail);
                        } else {
                            input[at..at + token.len()].copy_from_slice(token);
                        }
                    }
                    6 if len > 1 => {
                        let at = rng.below(len);
                        let n = 1 + rng.below((len - at).min(16));
                        let _ = input.drain(at..at + n);
                    }
                    7 => {
                        // A run of one byte: zero, any, or one of the input's own (a run of
                        // digits is a long number of the input's language).
                        let at = rng.below(len + 1);
                        let most = if rng.below(4) == 0 { 32 } else { 8 };
                        let n = 1 + rng.below(most);
                        let fill = match rng.below(3) {
                            0 => rng.next() as u8,
                            1 if len > 0 => input[rng.below(len)],
                            _ => 0,
                        };
                        for _ in 0..n {
                            input.insert(at, fill);
                        }
                    }
                    8 if len > 0 => {
                        let at = rng.below(len);
                        let n = 1 + rng.below((len - at).min(32));
                        let chunk: Vec<u8> = input[at..at + n].to_vec();
                        let to = rng.below(input.len() + 1);
                        let tail = input.split_off(to);
                        input.extend_from_slice(&chunk);
                        input.extend_from_slice(&tail);
                    }
                    9 if !corpus.is_empty() => {
                        // Splice: this input's head, another's tail.
                        let other = &corpus[rng.below(corpus.len())];
                        let cut = rng.below(len + 1);
                        let from = rng.below(other.len() + 1);
                        input.truncate(cut);
                        input.extend_from_slice(&other[from..]);
                    }
                    10 if len > 0 => {
                        let to = rng.below(len);
                        input.truncate(to);
                    }
                    _ => {
                        let b = rng.next() as u8;
                        let at = rng.below(len + 1);
                        input.insert(at, b);
                    }
                }
            }
            input.truncate(MAX_LEN);
        }

        fn bucket(count: u32) -> u8 {
            match count {
                0 => 0,
                1 => 1,
                2 => 2,
                3 => 4,
                4..=7 => 8,
                8..=15 => 16,
                16..=31 => 32,
                32..=127 => 64,
                _ => 128,
            }
        }

        fn clear_counts() {
            let touched = TOUCHED_LEN.load(Ordering::Relaxed).min(SITES);
            for i in 0..touched {
                let site = TOUCHED[i].load(Ordering::Relaxed) as usize;
                if site < SITES {
                    COUNTS[site].store(0, Ordering::Relaxed);
                }
            }
            TOUCHED_LEN.store(0, Ordering::Relaxed);
        }

        /// Whether the input just run reached a site, or a hit-count bucket of one, never seen.
        fn news(seen: &mut [u8]) -> bool {
            let mut new = false;
            let touched = TOUCHED_LEN.load(Ordering::Relaxed).min(SITES);
            for i in 0..touched {
                let site = TOUCHED[i].load(Ordering::Relaxed) as usize;
                if site < SITES {
                    let b = bucket(COUNTS[site].load(Ordering::Relaxed));
                    if seen[site] & b == 0 {
                        seen[site] |= b;
                        new = true;
                    }
                }
            }
            new
        }

        fn now_ms(start: ::std::time::Instant) -> u64 {
            start.elapsed().as_millis() as u64 + 1
        }

        /// Run one input; its panic (place and message), if it panicked.
        fn exec<F: FnMut(&mut Input)>(call: &mut F, data: &[u8], start: ::std::time::Instant) -> Option<(String, String)> {
            clear_counts();
            if let Ok(mut current) = CURRENT.lock() {
                current.clear();
                current.extend_from_slice(data);
            }
            *PANIC.lock().unwrap_or_else(|e| e.into_inner()) = None;
            STARTED_MS.store(now_ms(start), Ordering::SeqCst);
            let outcome = ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| {
                call(&mut Input::new(data));
            }));
            STARTED_MS.store(0, Ordering::SeqCst);
            match outcome {
                Ok(()) => None,
                Err(_) => Some(
                    PANIC
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .take()
                        .unwrap_or_else(|| (String::from("?"), String::from("panicked"))),
                ),
            }
        }

        /// A panic's identity while minimizing: its place, and its message without numbers
        /// (an index in it shrinks with the input).
        fn key(panic: &(String, String)) -> (String, String) {
            // Up to the first quoted part: what it quotes is the input's (`inside 'é' of ...`).
            let message: String = panic
                .1
                .chars()
                .take_while(|c| !matches!(c, '\'' | '`' | '"'))
                .filter(|c| !c.is_ascii_digit())
                .collect();
            (panic.0.clone(), message)
        }

        fn minimize<F: FnMut(&mut Input)>(call: &mut F, input: &[u8], panic: &(String, String), start: ::std::time::Instant) -> Vec<u8> {
            let wanted = key(panic);
            let mut best = input.to_vec();
            let mut tries = 0;
            let mut fails = |call: &mut F, candidate: &[u8], tries: &mut usize| -> bool {
                *tries += 1;
                match exec(call, candidate, start) {
                    Some(p) => key(&p) == wanted,
                    None => false,
                }
            };
            let mut size = best.len() / 2;
            while size > 0 && tries < 2000 {
                let mut at = 0;
                while at < best.len() && tries < 2000 {
                    let mut candidate = best.clone();
                    let end = (at + size).min(candidate.len());
                    let _ = candidate.drain(at..end);
                    if fails(call, &candidate, &mut tries) {
                        best = candidate;
                    } else {
                        at += size;
                    }
                }
                size /= 2;
            }
            let mut i = 0;
            while i < best.len() && tries < 4000 {
                for smaller in [0u8, b'0', b'a', best[i] / 2, best[i].saturating_sub(1)] {
                    if smaller < best[i] {
                        let mut candidate = best.clone();
                        candidate[i] = smaller;
                        if fails(call, &candidate, &mut tries) {
                            best = candidate;
                            break;
                        }
                    }
                }
                i += 1;
            }
            best
        }

        fn env_u64(name: &str, default: u64) -> u64 {
            ::std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
        }

        fn hex(data: &[u8]) -> String {
            data.iter().map(|b| ::std::format!("{:02x}", b)).collect()
        }

        fn one_line(text: &str) -> String {
            text.replace('\\', "\\\\").replace('\n', "\\n").replace('\r', "\\r").replace('\t', "\\t")
        }

        /// One line to the fuzz stage, past libtest's capture (it captures the print macros,
        /// not the stream), flushed at once.
        fn say(name: &str, what: &str, fields: &[&str]) {
            let mut line = ::std::format!("DUALTRACK-FUZZ\t{}\t{}", name, what);
            for field in fields {
                line.push('\t');
                line.push_str(&one_line(field));
            }
            line.push('\n');
            // Standard error: libtest writes its own report on standard output, and a line
            // there would land inside its `test name ... ok`.
            let mut out = ::std::io::stderr();
            let _ = ::std::io::Write::write_all(&mut out, line.as_bytes());
            let _ = ::std::io::Write::flush(&mut out);
        }

        /// One finding: how it failed, where, the input, and each argument as Rust.
        fn record(name: &str, kind: &str, panic: &(String, String), input: &[u8], args: &[String]) {
            let mut fields: Vec<&str> = ::std::vec![kind, &panic.0, &panic.1];
            let input = hex(input);
            fields.push(&input);
            for arg in args {
                fields.push(arg);
            }
            say(name, "crash", &fields);
        }

        /// Fuzz the call `call` makes of one function, the harness `name`: seeds from `seeds`,
        /// tokens from `dict`, arguments rendered as Rust by `show`. Runs, time, seed and
        /// where to write come from the fuzz stage's environment; the harness passes unless
        /// its own machinery fails.
        pub(crate) fn run<S, F, G>(name: &str, dict: &[&[u8]], seeds: S, mut call: F, show: G)
        where
            S: FnOnce(&mut Seeds),
            F: FnMut(&mut Input),
            G: Fn(&mut Input) -> Vec<String> + Copy + Send + 'static,
        {
            let start = ::std::time::Instant::now();
            let saved_dir = ::std::env::var("DUALTRACK_FUZZ_CORPUS").ok().map(::std::path::PathBuf::from);
            let runs = env_u64("DUALTRACK_FUZZ_RUNS", 1000);
            let seconds = env_u64("DUALTRACK_FUZZ_MS", 10_000);
            let input_ms = env_u64("DUALTRACK_FUZZ_INPUT_MS", 1000);
            let seed = env_u64("DUALTRACK_FUZZ_SEED", 0);
            let guided = env_u64("DUALTRACK_FUZZ_GUIDED", 1) != 0;
            let mut rng = Rng(fnv(name) ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
            let mut seeded = Seeds { all: Vec::new() };
            // A seed's construction that panics is no finding of the fuzz stage.
            let _ = ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| seeds(&mut seeded)));
            let mut corpus: Vec<Vec<u8>> = seeded.all;
            corpus.push(Vec::new());
            let mut saved = 0usize;
            if let Some(d) = &saved_dir {
                if let Ok(entries) = ::std::fs::read_dir(d.join(name)) {
                    let mut files: Vec<::std::path::PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
                    files.sort();
                    for file in files {
                        if let Ok(bytes) = ::std::fs::read(&file) {
                            corpus.push(bytes);
                            saved += 1;
                        }
                    }
                }
            }
            // A harness that goes on from a saved corpus starts where the last slice stopped:
            // it may be given less time than a first slice.
            let seconds = if saved > 0 { seconds.min(env_u64("DUALTRACK_FUZZ_MS_CONTINUED", seconds)) } else { seconds };
            let hook = ::std::panic::take_hook();
            ::std::panic::set_hook(Box::new(|info| {
                let place = info.location().map(|l| ::std::format!("{}:{}", l.file(), l.line())).unwrap_or_default();
                let payload = info.payload();
                let message = if let Some(s) = payload.downcast_ref::<&str>() {
                    s.to_string()
                } else if let Some(s) = payload.downcast_ref::<String>() {
                    s.clone()
                } else {
                    String::from("panicked")
                };
                *PANIC.lock().unwrap_or_else(|e| e.into_inner()) = Some((place, message));
            }));
            // The watchdog: an input past its time is written down, and the process ends.
            {
                let harness = String::from(name);
                let stop = start;
                let _ = ::std::thread::spawn(move || loop {
                    ::std::thread::sleep(::std::time::Duration::from_millis(25));
                    let began = STARTED_MS.load(Ordering::SeqCst);
                    if began != 0 && now_ms(stop).saturating_sub(began) > input_ms {
                        let input = CURRENT.lock().map(|c| c.clone()).unwrap_or_default();
                        let args = show(&mut Input::new(&input));
                        record(&harness, "hang", &(String::new(), ::std::format!("ran past {} ms", input_ms)), &input, &args);
                        ::std::process::abort();
                    }
                });
            }
            FUZZING.store(true, Ordering::SeqCst);
            let mut seen = ::std::vec![0u8; SITES];
            let mut crashes: Vec<(String, String)> = Vec::new();
            let mut executed: u64 = 0;
            let mut new_inputs = 0usize;
            // The input count and time of the first crash: how long finding it took.
            let first_crash = ::std::cell::Cell::new((0u64, 0u64));
            // A run that killed its process (an abort, a stack overflow) is run again with the
            // same seed, saying each input from the last heartbeat before the end on: the
            // last one said is the one that did it.
            let trace_from = env_u64("DUALTRACK_FUZZ_TRACE_FROM", 0);
            let mut handle = |call: &mut F, data: Vec<u8>, corpus: &mut Vec<Vec<u8>>, seen: &mut [u8], keep_any: bool, crashes: &mut Vec<(String, String)>, index: u64| -> bool {
                if trace_from > 0 && index >= trace_from {
                    let args = show(&mut Input::new(&data));
                    let mut fields: Vec<&str> = ::std::vec![];
                    let input = hex(&data);
                    fields.push(&input);
                    for arg in &args {
                        fields.push(arg);
                    }
                    say(name, "trying", &fields);
                }
                let panicked = exec(call, &data, start);
                let new = news(seen);
                if let Some(panic) = panicked {
                    let k = key(&panic);
                    if !crashes.contains(&k) {
                        if crashes.is_empty() {
                            first_crash.set((index, start.elapsed().as_millis() as u64));
                        }
                        crashes.push(k);
                        let small = minimize(call, &data, &panic, start);
                        let last = exec(call, &small, start).unwrap_or(panic);
                        let args = show(&mut Input::new(&small));
                        record(name, "panic", &last, &small, &args);
                    }
                    return false;
                }
                if (new && guided || keep_any) && corpus.len() < MAX_CORPUS {
                    corpus.push(data);
                    return true;
                }
                false
            };
            let initial: Vec<Vec<u8>> = ::std::mem::replace(&mut corpus, Vec::new());
            for data in initial {
                executed += 1;
                let _ = handle(&mut call, data, &mut corpus, &mut seen, true, &mut crashes, executed);
            }
            if corpus.is_empty() {
                corpus.push(Vec::new());
            }
            while executed < runs && start.elapsed().as_millis() as u64 <= seconds {
                let mut child = corpus[rng.below(corpus.len())].clone();
                mutate(&mut rng, &mut child, dict, &corpus);
                executed += 1;
                if executed % HEARTBEAT == 0 && trace_from == 0 {
                    say(name, "at", &[&executed.to_string()]);
                }
                let fresh = child.clone();
                if handle(&mut call, child, &mut corpus, &mut seen, false, &mut crashes, executed) {
                    new_inputs += 1;
                    if new_inputs <= MAX_SAVED {
                        say(name, "corpus", &[&hex(&fresh)]);
                    }
                }
            }
            FUZZING.store(false, Ordering::SeqCst);
            clear_counts();
            ::std::panic::set_hook(hook);
            let reached = seen.iter().filter(|b| **b != 0).count();
            let numbers = [
                ("runs", executed),
                ("ms", start.elapsed().as_millis() as u64),
                ("corpus", corpus.len() as u64),
                ("saved", saved as u64),
                ("new", new_inputs as u64),
                ("sites", reached as u64),
                ("seed", seed),
                ("crashes", crashes.len() as u64),
                ("first_crash_run", first_crash.get().0),
                ("first_crash_ms", first_crash.get().1),
            ];
            let texts: Vec<String> = numbers.iter().map(|(k, v)| ::std::format!("{}={}", k, v)).collect();
            let fields: Vec<&str> = texts.iter().map(|t| t.as_str()).collect();
            say(name, "stats", &fields);
        }
    }
"####;
