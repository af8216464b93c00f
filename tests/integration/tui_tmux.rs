//! End-to-end tests of the interface in a real terminal: ktriage runs in a tmux pane,
//! keys go in with `send-keys`, the screen comes back with `capture-pane`.
//!
//! Every test starts its own tmux server (`tmux -L <name>`), so they run in parallel, and
//! kills it when done, pass or fail. Nothing waits a fixed time: each step polls the
//! screen until what it expects shows, or fails after [`DEADLINE`] with the screen it saw.
//! Without tmux on PATH the tests say so and pass (CI installs it).

use ktriage::facts::Source;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use unicode_width::UnicodeWidthStr;

/// How long a screen may take to show what a step waits for (a debug build, a busy CI).
const DEADLINE: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(50);

/// Runs the program, then says how it ended and how the terminal was left, and stays
/// open so the pane can be read: `EXIT:<status>`, then `stty -a` between markers.
const SCRIPT: &str = r#"bin="$1"; shift
"$bin" "$@"
echo "EXIT:$?"
echo STTY-BEGIN
stty -a
echo STTY-END
exec sleep 600"#;

fn have_tmux() -> bool {
    let found = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("skipped: tmux is not on PATH");
    }
    found
}

/// One tmux server with one session `t` running ktriage; the server is killed on drop.
struct Tmux {
    socket: String,
    /// The socket file, removed once the server is gone (tmux leaves it behind).
    socket_path: Option<std::path::PathBuf>,
    /// HOME, XDG_CONFIG_HOME and XDG_STATE_HOME of the program, and its working
    /// directory (where an export writes): no user config leaks in, nothing leaks out.
    home: tempfile::TempDir,
}

impl Tmux {
    /// Starts `ktriage ARGS` at `width`×`height` with TERM=xterm, and NO_COLOR=1 if asked.
    fn start(name: &str, (width, height): (u16, u16), no_color: bool, args: &[&str]) -> Tmux {
        let mut tmux = Tmux {
            socket: format!("ktriage-test-{}-{name}", std::process::id()),
            socket_path: None,
            home: tempfile::tempdir().expect("temporary HOME"),
        };
        // A server left by an earlier process of the same id would answer instead.
        let _ = tmux.run(&["kill-server"]);
        let home = tmux.home.path();
        let mut env = vec![
            format!("PATH={}", std::env::var("PATH").unwrap_or_default()),
            format!("HOME={}", home.display()),
            format!("XDG_CONFIG_HOME={}", home.join(".config").display()),
            format!("XDG_STATE_HOME={}", home.join(".local/state").display()),
            "TERM=xterm".to_string(),
        ];
        if no_color {
            env.push("NO_COLOR=1".into());
        }
        let (w, h) = (width.to_string(), height.to_string());
        let cwd = home.display().to_string();
        let mut cmd: Vec<&str> = vec![
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            &w,
            "-y",
            &h,
            "-c",
            &cwd,
            "--",
            "env",
            "-i",
        ];
        cmd.extend(env.iter().map(String::as_str));
        cmd.extend(["sh", "-c", SCRIPT, "sh", env!("CARGO_BIN_EXE_ktriage")]);
        cmd.extend(args);
        tmux.ok(&cmd);
        tmux.socket_path = Some(tmux.display("#{socket_path}").into());
        tmux
    }

    fn run(&self, args: &[&str]) -> std::io::Result<Output> {
        Command::new("tmux")
            .arg("-u")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .env_remove("TMUX")
            .env("HOME", self.home.path())
            .env("TERM", "xterm")
            .output()
    }

    /// Runs a tmux command that must succeed; its standard output.
    fn ok(&self, args: &[&str]) -> String {
        let out = self
            .run(args)
            .unwrap_or_else(|e| panic!("tmux {args:?}: {e}"));
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend(keys);
        self.ok(&args);
    }

    /// The pane as text, wrapped lines joined (a line wider than the pane stays wide).
    fn screen(&self) -> String {
        self.ok(&["capture-pane", "-p", "-J", "-t", "t"])
    }

    /// The pane with its attributes as SGR escape sequences.
    fn screen_with_escapes(&self) -> String {
        self.ok(&["capture-pane", "-p", "-e", "-t", "t"])
    }

    fn display(&self, format: &str) -> String {
        self.ok(&["display-message", "-p", "-t", "t", format])
            .trim()
            .to_string()
    }

    /// Polls the screen until `done` holds on a settled screen (the same twice in a row,
    /// so a frame caught half-written does not count); the screen then. Fails after
    /// [`DEADLINE`].
    fn wait_for(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        let mut previous = String::new();
        loop {
            let screen = self.screen();
            if screen == previous && done(&screen) {
                return screen;
            }
            previous = screen.clone();
            if start.elapsed() > DEADLINE {
                panic!("timed out waiting for {what}; the screen:\n{screen}");
            }
            std::thread::sleep(POLL);
        }
    }

    fn wait_for_text(&self, text: &str) -> String {
        self.wait_for(&format!("“{text}”"), |s| s.contains(text))
    }

    /// Waits for the program to end; its exit status as the script printed it. The
    /// status is read from the pane with its history, wherever on a line it landed: a
    /// resize can leave the cursor mid-line or scroll the line out of the visible pane.
    fn wait_for_exit(&self) -> String {
        let start = Instant::now();
        loop {
            let pane = self.ok(&["capture-pane", "-p", "-J", "-S", "-", "-t", "t"]);
            if pane.contains("STTY-END")
                && let Some(status) = exit_status(&pane)
            {
                return status;
            }
            if start.elapsed() > DEADLINE {
                panic!("timed out waiting for the program to exit; the pane:\n{pane}");
            }
            std::thread::sleep(POLL);
        }
    }
}

/// The digits after the last `EXIT:` the script printed, if they are all there.
fn exit_status(pane: &str) -> Option<String> {
    let (_, rest) = pane.rsplit_once("EXIT:")?;
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!digits.is_empty()).then_some(digits)
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
        if let Some(path) = &self.socket_path {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A line without the pane borders around it (and without trailing blanks).
fn inside(line: &str) -> &str {
    let line = line.trim_end();
    let line = line.strip_prefix(is_box).unwrap_or(line);
    line.strip_suffix(is_box).unwrap_or(line)
}

fn is_box(c: char) -> bool {
    ('\u{2500}'..='\u{257F}').contains(&c)
}

/// The rows of the Suggestions list once triage has answered; `None` while it runs.
fn suggestion_rows(screen: &str) -> Option<Vec<String>> {
    let lines: Vec<&str> = screen.lines().collect();
    let title = lines.iter().position(|l| l.contains(" Suggestions"))?;
    if lines[title].contains("triage running") {
        return None;
    }
    let rows: Vec<String> = lines[title + 1..]
        .iter()
        .map(|l| inside(l).to_string())
        .take_while(|l| !l.is_empty() && !l.starts_with('─'))
        .collect();
    let first = rows.first()?;
    if first.contains("looking for symptoms") {
        return None;
    }
    Some(rows)
}

fn wait_for_suggestions(t: &Tmux) -> Vec<String> {
    let screen = t.wait_for("the Suggestions list", |s| suggestion_rows(s).is_some());
    suggestion_rows(&screen).expect("suggestions")
}

/// Moves down the Suggestions list to the row of `runbook` on `target` and walks it.
fn walk_suggestion(t: &Tmux, rows: &[String], runbook: &str, target: &str) {
    let n = rows
        .iter()
        .position(|r| r.contains(runbook) && r.contains(target))
        .unwrap_or_else(|| panic!("no {runbook} row for {target} in {rows:#?}"));
    for _ in 0..n {
        t.keys(&["j"]);
    }
    t.keys(&["Enter"]);
}

/// The path pane's last row once the walk concludes: `▲ CRIT CODE — title`.
fn conclusion_row(code: &str) -> String {
    format!("{code} — ")
}

/// The words of `stty -a` output: `icanon`, `-echo`, `rows` ...
fn stty_words(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == ';')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The terminal modes the script printed after the program ended.
fn modes_after_exit(t: &Tmux) -> Vec<String> {
    let screen = t.screen();
    let text = screen
        .split("STTY-BEGIN")
        .nth(1)
        .and_then(|rest| rest.split("STTY-END").next())
        .expect("stty -a output between its markers");
    stty_words(text)
}

/// The pane's terminal modes read from outside while the program runs (`stty -F`, or
/// BSD's `-f`); `None` where neither works.
fn modes_now(t: &Tmux) -> Option<Vec<String>> {
    let tty = t.display("#{pane_tty}");
    ["-F", "-f"].iter().find_map(|flag| {
        let out = Command::new("stty")
            .args(["-a", flag, &tty])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| stty_words(&String::from_utf8_lossy(&out.stdout)))
    })
}

/// What an SGR parameter does.
#[derive(Debug, PartialEq)]
enum Sgr {
    /// Reset, bold, dim, underline, reverse and their undoing.
    Attribute,
    /// Back to the terminal's own foreground or background (39, 49): tmux writes these
    /// itself with every change of attributes, colour or not.
    DefaultColour,
    /// A foreground, background or underline colour.
    Colour,
    /// Anything else (italic, blink, ...): no theme here uses it.
    Other,
}

/// Every parameter of every SGR sequence (`ESC [ … m`) in `s`, classified; a colour
/// given as `38;5;n` or `38;2;r;g;b` is one entry.
fn sgr_parameters(s: &str) -> Vec<(String, Sgr)> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find("\x1b[") {
        rest = &rest[i + 2..];
        let end = rest
            .find(|c: char| ('\u{40}'..='\u{7e}').contains(&c))
            .unwrap_or(rest.len());
        let (params, after) = rest.split_at(end);
        let is_sgr = after.starts_with('m')
            && params
                .chars()
                .all(|c| c.is_ascii_digit() || c == ';' || c == ':');
        rest = after.get(1..).unwrap_or("");
        if !is_sgr {
            continue;
        }
        let list: Vec<&str> = params.split(';').collect();
        let mut k = 0;
        while k < list.len() {
            let p = list[k];
            let code: Option<u16> = match p.split(':').next().unwrap_or("") {
                "" => Some(0),
                n => n.parse().ok(),
            };
            let mut taken = 1;
            let kind = match code {
                Some(0 | 1 | 2 | 4 | 7 | 22 | 24 | 27) => Sgr::Attribute,
                Some(39 | 49) => Sgr::DefaultColour,
                Some(30..=37 | 40..=47 | 90..=97 | 100..=107) => Sgr::Colour,
                Some(38 | 48 | 58) => {
                    if !p.contains(':') {
                        taken += match list.get(k + 1) {
                            Some(&"5") => 2,
                            Some(&"2") => 4,
                            _ => 0,
                        };
                    }
                    Sgr::Colour
                }
                _ => Sgr::Other,
            };
            let end = (k + taken).min(list.len());
            out.push((list[k..end].join(";"), kind));
            k = end;
        }
    }
    out
}

/// Every line fits 80 columns and holds no control character (an escape sequence that
/// reached the screen as text, a stray carriage return); with `framed`, every body row
/// (between the header and the flash line) begins and ends with a pane border at
/// columns 1 and 80, so no pane spills over another.
fn assert_clean(screen: &str, what: &str, framed: bool) {
    let lines: Vec<&str> = screen.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let width = line.width();
        assert!(
            width <= 80,
            "{what}: line {} is {width} columns wide:\n{line}\nscreen:\n{screen}",
            i + 1
        );
        if let Some(c) = line.chars().find(|c| c.is_control()) {
            panic!(
                "{what}: line {} holds the control character {c:?}:\n{line:?}\nscreen:\n{screen}",
                i + 1
            );
        }
    }
    assert_eq!(
        lines.len(),
        24,
        "{what}: expected 24 lines (a longer one would have wrapped):\n{screen}"
    );
    if framed {
        for (i, line) in lines.iter().enumerate().take(22).skip(1) {
            let first = line.chars().next();
            let last = line.trim_end_matches(' ').chars().last();
            let width = line.trim_end_matches(' ').width();
            assert!(
                first.is_some_and(is_box) && last.is_some_and(is_box) && width == 80,
                "{what}: line {} is not framed by pane borders at columns 1 and 80:\n{line}\nscreen:\n{screen}",
                i + 1
            );
        }
    }
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

/// `open` on the memory-pressure fixture, Enter on the top suggestion: the walk concludes.
fn walk_memory_pressure(t: &Tmux) -> String {
    let rows = wait_for_suggestions(t);
    assert!(
        rows[0].contains("pod-evictions"),
        "top suggestion: {:?}",
        rows[0]
    );
    t.keys(&["Enter"]);
    t.wait_for_text(&conclusion_row("EVICTION_MEMORY_PRESSURE"))
}

#[test]
fn walk_concludes_and_quitting_restores_the_terminal() {
    if !have_tmux() {
        return;
    }
    let t = Tmux::start(
        "restore",
        (80, 24),
        false,
        &["open", &fixture("evict-memory-pressure")],
    );
    walk_memory_pressure(&t);
    // While it runs: alternate screen, no cursor (so the checks below can fail).
    assert_eq!(
        t.display("#{alternate_on}"),
        "1",
        "alternate screen while running"
    );
    assert_eq!(
        t.display("#{cursor_flag}"),
        "0",
        "cursor hidden while running"
    );
    match modes_now(&t) {
        Some(modes) => assert!(
            modes.iter().any(|m| m == "-icanon") && modes.iter().any(|m| m == "-echo"),
            "raw mode while running: {modes:?}"
        ),
        None => eprintln!(
            "stty cannot read the pane's terminal from outside: not checked while running"
        ),
    }
    t.keys(&["q"]);
    assert_eq!(t.wait_for_exit(), "0", "exit status:\n{}", t.screen());
    assert_eq!(
        t.display("#{alternate_on}"),
        "0",
        "still in the alternate screen"
    );
    assert_eq!(
        t.display("#{cursor_flag}"),
        "1",
        "the cursor is still hidden"
    );
    let modes = modes_after_exit(&t);
    for mode in ["icanon", "echo", "isig"] {
        assert!(
            modes.iter().any(|m| m == mode),
            "stty -a after exit lacks `{mode}` (raw mode left on): {modes:?}"
        );
        assert!(
            !modes.iter().any(|m| *m == format!("-{mode}")),
            "stty -a after exit shows `-{mode}` (raw mode left on): {modes:?}"
        );
    }
}

#[test]
fn no_color_draws_without_colour() {
    if !have_tmux() {
        return;
    }
    let dir = fixture("evict-memory-pressure");
    for no_color in [true, false] {
        let name = if no_color { "nocolor" } else { "colour" };
        let t = Tmux::start(name, (80, 24), no_color, &["open", &dir]);
        wait_for_suggestions(&t);
        let home = t.screen_with_escapes();
        walk_memory_pressure(&t);
        let walk = t.screen_with_escapes();
        for (screen, what) in [(&home, "home"), (&walk, "walk")] {
            let params = sgr_parameters(screen);
            assert!(
                params.iter().any(|(_, k)| *k == Sgr::Attribute),
                "{name} {what}: no SGR sequence at all in the capture; is -e working?"
            );
            let colours: Vec<&(String, Sgr)> = params
                .iter()
                .filter(|(_, k)| matches!(k, Sgr::Colour | Sgr::Other))
                .collect();
            if no_color {
                assert!(
                    colours.is_empty(),
                    "NO_COLOR=1, {what} screen: colour or unexpected SGR parameters {colours:?} in\n{}",
                    screen.replace('\x1b', "␛")
                );
            } else {
                assert!(
                    colours.iter().any(|(_, k)| *k == Sgr::Colour),
                    "default theme, {what} screen: no colour at all, so the NO_COLOR check proves nothing:\n{}",
                    screen.replace('\x1b', "␛")
                );
            }
        }
        t.keys(&["q"]);
        assert_eq!(t.wait_for_exit(), "0");
    }
}

#[test]
fn sgr_parser_tells_colours_from_attributes() {
    let s = "a\x1b[0;1m\x1b[39m\x1b[49mb\x1b[mc\x1b[7;22m\x1b[38;5;12mx\x1b[48;2;1;2;3my\
\x1b[38:5:4mz\x1b[31;4;103m\x1b[?25l\x1b[3m\x1b[2J";
    let got = sgr_parameters(s);
    let want: Vec<(String, Sgr)> = [
        ("0", Sgr::Attribute),
        ("1", Sgr::Attribute),
        ("39", Sgr::DefaultColour),
        ("49", Sgr::DefaultColour),
        ("", Sgr::Attribute),
        ("7", Sgr::Attribute),
        ("22", Sgr::Attribute),
        ("38;5;12", Sgr::Colour),
        ("48;2;1;2;3", Sgr::Colour),
        ("38:5:4", Sgr::Colour),
        ("31", Sgr::Colour),
        ("4", Sgr::Attribute),
        ("103", Sgr::Colour),
        ("3", Sgr::Other),
    ]
    .into_iter()
    .map(|(p, k)| (p.to_string(), k))
    .collect();
    assert_eq!(got, want);
}

/// Waits for the question's choice `› LABEL` to be the selected one, with the line
/// under the choices saying it concludes `code`.
fn wait_for_choice(t: &Tmux, label: &str, code: &str) -> String {
    t.wait_for(
        &format!("the choice “{label}” (→ {code}) selected"),
        |s| {
            s.lines().any(|l| {
                let row = inside(l);
                row.starts_with(&format!("› {label}"))
                    || row.starts_with(&format!("› (earlier answer) {label}"))
            }) && s.contains(&format!("concludes {code}"))
                && !s.contains(&conclusion_row(code))
        },
    )
}

/// The Detail pane holds a question (the path pane's last step waits for an answer).
fn asking(screen: &str) -> bool {
    screen.contains("What did you find?")
}

#[test]
fn demo_answer_then_back_track_and_answer_again() {
    if !have_tmux() {
        return;
    }
    let t = Tmux::start("backtrack", (80, 24), false, &["demo"]);
    let rows = wait_for_suggestions(&t);
    walk_suggestion(&t, &rows, "pvc-pending", "search/data-typesense-2");
    t.wait_for("the walk to ask about the provisioner log", |s| {
        s.contains("pvc-pending › search/data-typesense-2")
            && s.contains("provisioner's own log")
            && asking(s)
    });
    // The choices and what each concludes, as src/demo/README.md tells them: quota,
    // kms, other, nothing. The first is selected; the cursor is on the choices.
    wait_for_choice(&t, "VolumeLimitExceeded", "PVC_VOLUME_LIMIT_REACHED");
    t.keys(&["j"]);
    wait_for_choice(&t, "A KMS error", "PVC_KMS_KEY_UNUSABLE");
    t.keys(&["Enter"]);
    let screen = t.wait_for("the KMS conclusion", |s| {
        s.contains(&conclusion_row("PVC_KMS_KEY_UNUSABLE")) && !asking(s)
    });
    assert!(
        screen.contains("▲ CRIT PVC_KMS_KEY_UNUSABLE — "),
        "a critical conclusion:\n{screen}"
    );
    assert!(
        screen.contains("» What does the provisioner's own log say"),
        "the answered step (») is in the path:\n{screen}"
    );

    // Back-track: up from the conclusion row to the answered step; Enter asks again.
    t.keys(&["k"]);
    t.wait_for_text("Enter answer again");
    t.keys(&["Enter"]);
    t.wait_for("the question again", |s| {
        asking(s)
            && s.contains("choose again")
            && !s.contains(&conclusion_row("PVC_KMS_KEY_UNUSABLE"))
    });
    // The earlier answer is selected again, and marked; "nothing" is two below it.
    let screen = wait_for_choice(&t, "A KMS error", "PVC_KMS_KEY_UNUSABLE");
    assert!(
        screen.contains("› (earlier answer) A KMS error"),
        "the earlier answer is marked:\n{screen}"
    );
    t.keys(&["j", "j"]);
    wait_for_choice(&t, "Nothing about this claim", "PVC_PENDING_UNDETERMINED");
    t.keys(&["Enter"]);
    let screen = t.wait_for("the other conclusion", |s| {
        s.contains(&conclusion_row("PVC_PENDING_UNDETERMINED")) && !asking(s)
    });
    assert!(
        screen.contains("· info PVC_PENDING_UNDETERMINED — "),
        "an info conclusion:\n{screen}"
    );
    assert!(
        !screen.contains("PVC_KMS_KEY_UNUSABLE"),
        "the first answer's conclusion is gone:\n{screen}"
    );
    t.keys(&["q"]);
    assert_eq!(t.wait_for_exit(), "0");
}

#[test]
fn too_small_then_resized() {
    if !have_tmux() {
        return;
    }
    let t = Tmux::start("resize", (60, 20), false, &["demo"]);
    let screen = t.wait_for_text("80×24");
    assert!(
        screen.contains("This one is 60×20"),
        "says the size it has:\n{screen}"
    );
    t.ok(&["resize-window", "-t", "t", "-x", "80", "-y", "24"]);
    assert_eq!(t.display("#{window_width}x#{window_height}"), "80x24");
    let rows = wait_for_suggestions(&t);
    let screen = t.screen();
    assert!(screen.contains("Cluster state"), "home screen:\n{screen}");
    assert!(!screen.contains("80×24"), "still too small:\n{screen}");
    assert!(rows[0].contains("dns-timeouts"), "top suggestion {rows:?}");
    t.keys(&["q"]);
    assert_eq!(t.wait_for_exit(), "0");
}

#[test]
fn screens_fit_80x24_without_garbage() {
    if !have_tmux() {
        return;
    }
    let t = Tmux::start("garbage", (80, 24), false, &["demo"]);
    let rows = wait_for_suggestions(&t);
    assert_clean(&t.screen(), "home", true);

    // A concluded walk: the top suggestion, dns-timeouts.
    assert!(rows[0].contains("dns-timeouts"), "top suggestion {rows:?}");
    t.keys(&["Enter"]);
    let screen = t.wait_for_text(&conclusion_row("COREDNS_UPSTREAM_TIMEOUT"));
    assert_clean(&screen, "concluded walk", true);
    t.keys(&["Tab", "Tab"]);
    let screen = t.wait_for_text("Evidence ·");
    assert_clean(&screen, "walk, evidence pane", true);
    t.keys(&["?"]);
    let screen = t.wait_for("the help", |s| s.contains("this help"));
    assert_clean(&screen, "help over the walk", false);
    // One Escape at a time: help, then the evidence pane, then the walk.
    t.keys(&["Escape"]);
    t.wait_for("the help to close", |s| !s.contains("this help"));
    t.keys(&["Escape"]);
    t.wait_for_text(" Detail ");
    t.keys(&["Escape"]);
    let screen = t.wait_for("home again", |s| suggestion_rows(s).is_some());
    assert_clean(&screen, "home after a walk", true);

    // A walk that asks, its question and choices in the Detail pane.
    let rows = suggestion_rows(&screen).expect("suggestions");
    walk_suggestion(&t, &rows, "pvc-pending", "search/data-typesense-2");
    let screen = t.wait_for("the question", |s| {
        s.contains("search/data-typesense-2") && asking(s)
    });
    assert_clean(&screen, "walk asking", true);
    t.keys(&["q"]);
    assert_eq!(t.wait_for_exit(), "0");
}

/// The whole export in a real terminal: walk, note, `e`, Enter, the written screen; then
/// quitting asks nothing (the note is in the bundle), the bundle is in the working
/// directory, and `ktriage bundle verify` accepts it.
#[test]
fn demo_export_writes_a_bundle_that_verifies() {
    if !have_tmux() {
        return;
    }
    let t = Tmux::start("export", (80, 24), false, &["demo"]);
    let rows = wait_for_suggestions(&t);
    assert!(rows[0].contains("dns-timeouts"), "top suggestion {rows:?}");
    t.keys(&["Enter"]);
    t.wait_for_text(&conclusion_row("COREDNS_UPSTREAM_TIMEOUT"));
    t.keys(&["n"]);
    t.wait_for_text("Add a note");
    t.keys(&["-l", "upstream resolver flapping since 03:10"]);
    t.wait_for_text("flapping since 03:10");
    t.keys(&["Enter"]);
    let screen = t.wait_for_text("note 1 added");
    assert!(!screen.contains("not in this build"), "{screen}");
    t.keys(&["e"]);
    let screen = t.wait_for_text("Export an evidence bundle");
    assert_clean(&screen, "export, before it starts", false);
    assert!(
        screen.contains("1 walk(s)") && screen.contains("1 note(s)"),
        "{screen}"
    );
    t.keys(&["Enter"]);
    let screen = t.wait_for("the written screen", |s| {
        s.contains("Evidence bundle written") && s.contains("ktriage bundle verify")
    });
    assert_clean(&screen, "export written", false);
    assert!(screen.contains("see errors.json"), "{screen}");
    assert!(screen.contains("see redactions.json"), "{screen}");
    t.keys(&["Escape"]);
    t.wait_for("the export to close", |s| {
        !s.contains("Evidence bundle written")
    });
    t.keys(&["q"]);
    assert_eq!(
        t.wait_for_exit(),
        "0",
        "quit without asking:\n{}",
        t.screen()
    );

    let bundles: Vec<std::path::PathBuf> = std::fs::read_dir(t.home.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".tar.gz"))
        .collect();
    assert_eq!(
        bundles.len(),
        1,
        "one bundle in the working directory: {bundles:?}"
    );
    let name = bundles[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(screen.contains(&name), "the screen named {name}:\n{screen}");
    let verify = Command::new(env!("CARGO_BIN_EXE_ktriage"))
        .args(["bundle", "verify"])
        .arg(&bundles[0])
        .env("HOME", t.home.path())
        .env("XDG_CONFIG_HOME", t.home.path().join(".config"))
        .env("XDG_STATE_HOME", t.home.path().join(".local/state"))
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "ktriage bundle verify: {}\n{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}

/// `ktriage serve` in the background, killed on drop.
struct Served {
    child: std::process::Child,
    kubeconfig: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_slowly(fixture_name: &str, latency_ms: u32) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let child = Command::new(env!("CARGO_BIN_EXE_ktriage"))
        .args(["serve", &fixture(fixture_name), "--latency"])
        .arg(latency_ms.to_string())
        .arg("--kubeconfig-out")
        .arg(&kubeconfig)
        .env("XDG_STATE_HOME", dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("ktriage serve starts");
    let start = Instant::now();
    while !kubeconfig.exists() {
        assert!(start.elapsed() < DEADLINE, "serve wrote no kubeconfig");
        std::thread::sleep(POLL);
    }
    Served {
        child,
        kubeconfig,
        _dir: dir,
    }
}

/// A slow API server never holds a key press: while triage is still waiting for the
/// server, `?` opens the help and `Esc` closes it, and the screen still says triage is
/// running. (No timing is asserted; the order of what the screen shows is the proof.)
#[test]
fn keys_are_answered_while_the_api_is_slow() {
    if !have_tmux() {
        return;
    }
    let served = serve_slowly("evict-memory-pressure", 3000);
    let kubeconfig = served.kubeconfig.display().to_string();
    // Ages are judged as captured, so the eviction stays recent whatever today is.
    let captured =
        ktriage::source::snapshot::Snapshot::open(Path::new(&fixture("evict-memory-pressure")))
            .expect("the fixture opens")
            .info()
            .now
            .to_rfc3339();
    let t = Tmux::start(
        "slow",
        (80, 24),
        false,
        &["--kubeconfig", &kubeconfig, "--as-of", &captured],
    );
    t.wait_for_text("triage running");
    t.keys(&["?"]);
    let screen = t.wait_for_text("Keys (from your keymap)");
    assert!(screen.contains("Esc close"), "{screen}");
    t.keys(&["Escape"]);
    let screen = t.wait_for("the help to close", |s| {
        !s.contains("Keys (from your keymap)")
    });
    assert!(
        screen.contains("triage running"),
        "the keys were answered only after the slow triage ended:\n{screen}"
    );
    assert!(
        screen.contains("live"),
        "the header says the source is live:\n{screen}"
    );
    // And the answers still arrive: the live cluster gets its suggestion.
    t.wait_for_text("pod-evictions");
    t.keys(&["q"]);
    assert_eq!(t.wait_for_exit(), "0");
}

/// The pid of the program the pane's script runs (the script's only child).
fn program_pid(t: &Tmux) -> String {
    let script = t.display("#{pane_pid}");
    let out = Command::new("pgrep")
        .args(["-P", &script])
        .output()
        .expect("pgrep runs");
    let pids = String::from_utf8_lossy(&out.stdout);
    pids.lines()
        .next()
        .unwrap_or_else(|| panic!("no child of the pane's script {script}"))
        .trim()
        .to_string()
}

#[test]
fn a_signal_ends_the_interface_with_the_terminal_restored() {
    if !have_tmux() {
        return;
    }
    // SIGHUP is what a dropped SSH or SSM session sends; SIGTERM what `kill` and systemd do.
    for (signal, status) in [("TERM", "143"), ("HUP", "129")] {
        let t = Tmux::start(
            &format!("signal-{signal}"),
            (80, 24),
            false,
            &["open", &fixture("evict-memory-pressure")],
        );
        wait_for_suggestions(&t);
        assert_eq!(
            t.display("#{alternate_on}"),
            "1",
            "alternate screen while running"
        );
        let killed = Command::new("kill")
            .args([&format!("-{signal}"), &program_pid(&t)])
            .status()
            .expect("kill runs");
        assert!(killed.success(), "kill -{signal}");
        assert_eq!(
            t.wait_for_exit(),
            status,
            "SIG{signal}: exit status:\n{}",
            t.screen()
        );
        assert_eq!(
            t.display("#{alternate_on}"),
            "0",
            "SIG{signal}: still in the alternate screen"
        );
        assert_eq!(
            t.display("#{cursor_flag}"),
            "1",
            "SIG{signal}: cursor hidden"
        );
        let modes = modes_after_exit(&t);
        assert!(
            modes.iter().any(|m| m == "icanon") && modes.iter().any(|m| m == "echo"),
            "SIG{signal}: raw mode left on: {modes:?}"
        );
        assert!(
            t.screen().contains(&format!("stopped by SIG{signal}")),
            "SIG{signal}: says why it stopped:\n{}",
            t.screen()
        );
    }
}
