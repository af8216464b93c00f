//! The user's settings, found once at start (ripgrep's flags → one value before any work;
//! ratatui's template `config.rs`): where the user's directories are, and the text of
//! every user file a command may need, read up front. Each concern parses its own file
//! with a `parse(text, origin)` function (`Keymap::with_overrides`, `theme::from_files`,
//! `RuleSet::parse`), so an error names the file, line and column before anything runs.
//!
//! The lowest floor: this reads files and the environment and knows nothing of what the
//! files mean.

use std::path::{Path, PathBuf};

/// The user's directories: `$XDG_CONFIG_HOME/ktriage` (or `~/.config/ktriage`) and
/// `$XDG_STATE_HOME/ktriage` (or `~/.local/state/ktriage`). A relative `XDG_*` value is
/// ignored, as the XDG base directory spec says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dirs {
    pub config: Option<PathBuf>,
    pub state: Option<PathBuf>,
}

impl Dirs {
    pub fn from_env() -> Dirs {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let base = |var: &str, fallback: &str| {
            std::env::var_os(var)
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .or_else(|| home.as_ref().map(|h| h.join(fallback)))
                .map(|d| d.join("ktriage"))
        };
        Dirs {
            config: base("XDG_CONFIG_HOME", ".config"),
            state: base("XDG_STATE_HOME", ".local/state"),
        }
    }

    /// `ktriage.log` in the state directory.
    pub fn log_file(&self) -> Option<PathBuf> {
        self.state.as_ref().map(|d| d.join("ktriage.log"))
    }

    fn config_path(&self, name: &str) -> Option<PathBuf> {
        self.config.as_ref().map(|d| d.join(name))
    }
}

/// A user file as read: where it is (for errors) and what it says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserFile {
    pub path: PathBuf,
    pub text: String,
}

impl UserFile {
    /// How errors name it.
    pub fn origin(&self) -> String {
        self.path.display().to_string()
    }
}

/// A user file that exists and cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}: cannot read: {reason}")]
pub struct ReadError {
    pub path: String,
    pub reason: String,
}

impl ReadError {
    pub fn hint(&self) -> &'static str {
        "check the file's permissions and that it is UTF-8 text, or move it away"
    }
}

/// Everything the user configured, read once.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// Runbook directories in load order: the user's (when it exists), then `--runbooks`.
    pub runbook_dirs: Vec<PathBuf>,
    /// `keys.toml`, when there is one.
    pub keys: Option<UserFile>,
    /// `themes/*.toml`, sorted by name; those that could not be read are in `unreadable`.
    pub themes: Vec<UserFile>,
    /// `redaction.toml`, when there is one.
    pub redaction: Option<UserFile>,
    /// Theme files that exist and could not be read (the themes report them with the
    /// files that do not parse; one bad theme does not stop the rest).
    pub unreadable_themes: Vec<ReadError>,
}

impl Settings {
    /// Finds and reads the user's files. A missing file is no error (the defaults hold);
    /// one that exists and cannot be read is, for the keymap and the redaction rules,
    /// whose absence would change what ktriage does without saying so.
    pub fn read(dirs: &Dirs, runbook_flags: &[PathBuf]) -> Result<Settings, ReadError> {
        let user_runbooks = dirs.config_path("runbooks").filter(|d| d.is_dir());
        let runbook_dirs = user_runbooks
            .into_iter()
            .chain(runbook_flags.iter().cloned())
            .collect();
        let keys = optional(dirs.config_path("keys.toml"))?;
        let redaction = optional(dirs.config_path("redaction.toml"))?;
        let (themes, unreadable_themes) = dirs
            .config_path("themes")
            .as_deref()
            .map(read_themes)
            .unwrap_or_default();
        Ok(Settings {
            runbook_dirs,
            keys,
            themes,
            redaction,
            unreadable_themes,
        })
    }

    /// No user files at all: built-in runbooks, keys, themes and rules (tests, benches).
    pub fn builtin() -> Settings {
        Settings::default()
    }
}

fn optional(path: Option<PathBuf>) -> Result<Option<UserFile>, ReadError> {
    let Some(path) = path else { return Ok(None) };
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(UserFile { path, text })),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ReadError {
            path: path.display().to_string(),
            reason: e.to_string(),
        }),
    }
}

fn read_themes(dir: &Path) -> (Vec<UserFile>, Vec<ReadError>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Default::default();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match std::fs::read_to_string(&path) {
            Ok(text) => files.push(UserFile { path, text }),
            Err(e) => errors.push(ReadError {
                path: path.display().to_string(),
                reason: e.to_string(),
            }),
        }
    }
    (files, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_read_once_and_missing_ones_are_defaults() {
        let home = std::env::temp_dir().join(format!("ktriage-config-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        let config = home.join("ktriage");
        std::fs::create_dir_all(config.join("themes")).unwrap();
        std::fs::create_dir_all(config.join("runbooks")).unwrap();
        std::fs::write(config.join("keys.toml"), "quit = \"x\"").unwrap();
        std::fs::write(config.join("themes/b.toml"), "b").unwrap();
        std::fs::write(config.join("themes/a.toml"), "a").unwrap();
        std::fs::write(config.join("themes/notes.txt"), "not a theme").unwrap();
        let dirs = Dirs {
            config: Some(config.clone()),
            state: None,
        };
        let s = Settings::read(&dirs, &[PathBuf::from("/extra")]).unwrap();
        assert_eq!(
            s.runbook_dirs,
            vec![config.join("runbooks"), PathBuf::from("/extra")]
        );
        assert_eq!(
            s.keys.as_ref().map(|k| k.text.as_str()),
            Some("quit = \"x\"")
        );
        assert_eq!(s.redaction, None);
        let names: Vec<_> = s.themes.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        // A directory where a file should be cannot be read: said, with the path.
        std::fs::create_dir_all(config.join("redaction.toml")).unwrap();
        let dirs = Dirs {
            config: Some(config.clone()),
            state: None,
        };
        let e = Settings::read(&dirs, &[]).unwrap_err();
        assert!(e.path.ends_with("redaction.toml"), "{e}");
        let _ = std::fs::remove_dir_all(&home);
    }
}
