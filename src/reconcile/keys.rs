//! Where the walk reads the human's answers: single keys from a terminal (no Enter), or lines
//! from anything else. The terminal's mode is changed only while a key is awaited.

use std::io::{BufRead, Read, Write};

/// The human's side of the walk.
pub trait Answers {
    /// One choice, lowercase: a key at a terminal, a trimmed line elsewhere. `None` at the end
    /// of input.
    fn choice(&mut self) -> std::io::Result<Option<String>>;

    /// A line of free text (a reason), trimmed. `None` at the end of input.
    fn line(&mut self) -> std::io::Result<Option<String>>;
}

/// Answers a line at a time: piped input and tests.
pub struct Lines<R>(pub R);

impl<R: BufRead> Answers for Lines<R> {
    fn choice(&mut self) -> std::io::Result<Option<String>> {
        Ok(self.line()?.map(|line| line.to_lowercase()))
    }

    fn line(&mut self) -> std::io::Result<Option<String>> {
        let mut line = String::new();
        if self.0.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        Ok(Some(line.trim().to_owned()))
    }
}

/// Answers from the terminal on stdin: a choice is one key, shown as it is pressed.
pub struct Keys {
    stdin: std::io::Stdin,
}

impl Keys {
    /// The terminal on stdin, or `None` when stdin is no terminal.
    pub fn stdin() -> Option<Keys> {
        Settings::read().map(|_| Keys {
            stdin: std::io::stdin(),
        })
    }
}

impl Answers for Keys {
    fn choice(&mut self) -> std::io::Result<Option<String>> {
        let key = {
            let _restored_on_drop = Settings::read()
                .ok_or_else(std::io::Error::last_os_error)?
                .one_key_at_a_time()?;
            loop {
                let mut byte = [0u8];
                if self.stdin.read(&mut byte)? == 0 {
                    break None;
                }
                match byte[0] {
                    // An Enter out of habit is not an answer.
                    b'\r' | b'\n' => continue,
                    // Ctrl-D: the end of input, as for a line.
                    4 => break None,
                    key => break Some(key),
                }
            }
        };
        match key {
            // Ctrl-C: what it does anywhere else, with the terminal restored first.
            Some(3) => {
                // SAFETY: raising a signal in our own process; no memory is touched.
                unsafe { libc::raise(libc::SIGINT) };
                Ok(None)
            }
            Some(key) => {
                let shown = if key.is_ascii_graphic() {
                    char::from(key).to_ascii_lowercase().to_string()
                } else {
                    format!("{key:#04x}")
                };
                let mut stderr = std::io::stderr();
                writeln!(stderr, "{shown}")?;
                Ok(Some(shown))
            }
            None => Ok(None),
        }
    }

    fn line(&mut self) -> std::io::Result<Option<String>> {
        Lines(self.stdin.lock()).line()
    }
}

/// A terminal's settings (termios) on stdin.
struct Settings(libc::termios);

impl Settings {
    fn read() -> Option<Settings> {
        // SAFETY: `termios` is plain data; tcgetattr fills it or fails.
        let mut settings: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: fd 0 and a valid pointer; fails on a descriptor that is no terminal.
        (unsafe { libc::tcgetattr(libc::STDIN_FILENO, &mut settings) } == 0)
            .then_some(Settings(settings))
    }

    /// Switch to one key per read, unechoed, Ctrl-C a key like any other; the returned guard
    /// puts these settings back when dropped.
    fn one_key_at_a_time(self) -> std::io::Result<Restore> {
        let mut raw = self.0;
        raw.c_lflag &= !(libc::ICANON | libc::ECHO | libc::ISIG);
        raw.c_cc[libc::VMIN] = 1;
        raw.c_cc[libc::VTIME] = 0;
        set(&raw)?;
        Ok(Restore(self))
    }
}

/// Puts a terminal's settings back when dropped.
struct Restore(Settings);

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = set(&self.0.0);
    }
}

fn set(settings: &libc::termios) -> std::io::Result<()> {
    // SAFETY: fd 0 and settings read from it.
    if unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, settings) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn lines_answer_trimmed_and_choices_lowercase() {
        let mut answers = Lines(" K \nthe caller checks \n".as_bytes());
        assert_eq!(answers.choice().unwrap().as_deref(), Some("k"));
        assert_eq!(
            answers.line().unwrap().as_deref(),
            Some("the caller checks")
        );
        assert_eq!(answers.choice().unwrap(), None);
    }
}
