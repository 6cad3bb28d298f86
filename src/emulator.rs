//! The Firestore emulator as a child process: started on a free port, ready when it answers
//! `GET /`, stopped when its handle drops — or by the kernel when firegate itself dies.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::{Error, Result};

/// Where Debian's `google-cloud-cli-firestore-emulator` package installs the emulator.
const KNOWN_JARS: &[&str] = &[
    "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar",
    "/usr/share/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar",
];

/// How long the emulator may take to answer its first request.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running Firestore emulator, stopped on drop.
pub struct Emulator {
    host: String,
    pid: u32,
    stop: Option<mpsc::Sender<()>>,
    watcher: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Starts an emulator on a free loopback port and waits until it serves. Blocking.
    ///
    /// The jar is `$FIREGATE_FIRESTORE_EMULATOR_JAR` or Debian's install location; `rules`
    /// optionally loads a `firestore.rules` file.
    pub fn start(rules: Option<&Path>) -> Result<Emulator> {
        Emulator::start_on(free_port()?, rules)
    }

    /// Like [`Emulator::start`], on a given port (e.g. to restart one where it was).
    pub fn start_on(port: u16, rules: Option<&Path>) -> Result<Emulator> {
        let jar = find_jar()?;
        let host = format!("127.0.0.1:{port}");
        let log = std::env::temp_dir().join(format!("firegate-firestore-emulator-{port}.log"));
        let log_file = std::fs::File::create(&log)
            .map_err(Error::io(format!("cannot create {}", log.display())))?;
        // setpriv (util-linux) sets PR_SET_PDEATHSIG and execs java: the emulator dies with the
        // thread that started it, even if firegate is killed outright, so no emulator outlives
        // its owner.
        let mut command = Command::new("setpriv");
        command
            .args(["--pdeathsig", "TERM", "--"])
            .arg(java())
            .arg("-cp")
            .arg(&jar)
            .arg("com.google.cloud.datastore.emulator.firestore.CloudFirestore")
            .arg("start")
            .arg("--host=127.0.0.1")
            .arg(format!("--port={port}"));
        if let Some(rules) = rules {
            command.arg(format!("--rules={}", rules.display()));
        }
        command
            .stdin(Stdio::null())
            .stdout(
                log_file
                    .try_clone()
                    .map_err(Error::io(format!("cannot reopen {}", log.display())))?,
            )
            .stderr(log_file);
        // The child is spawned and reaped on a dedicated thread that lives exactly as long as
        // this handle: PR_SET_PDEATHSIG fires when the spawning *thread* exits.
        let (started_tx, started_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let watcher = std::thread::Builder::new()
            .name("firestore-emulator".into())
            .spawn(move || {
                let mut child = match command.spawn() {
                    Ok(child) => child,
                    Err(e) => {
                        let _ = started_tx.send(Err(e));
                        return;
                    }
                };
                let _ = started_tx.send(Ok(child.id()));
                let _ = stop_rx.recv();
                terminate(&mut child);
            })
            .map_err(Error::io("cannot start the emulator's watcher thread"))?;
        let pid = started_rx
            .recv()
            .map_err(|_| Error::internal("emulator thread ended early"))?
            .map_err(|e| Error::Io {
                what: format!(
                    "cannot run `setpriv {}` (setpriv is in util-linux; install Java 17+)",
                    java()
                ),
                source: e,
            })?;
        let emulator = Emulator {
            host,
            pid,
            stop: Some(stop_tx),
            watcher: Some(watcher),
        };
        emulator.wait_ready(&log)?;
        Ok(emulator)
    }

    /// `host:port` for `FIRESTORE_EMULATOR_HOST`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The emulator's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    fn wait_ready(&self, log: &Path) -> Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if answers_ok(&self.host) {
                return Ok(());
            }
            if exited(self.pid) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let tail = std::fs::read_to_string(log).unwrap_or_default();
        let tail: String = tail
            .lines()
            .rev()
            .take(10)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n");
        Err(Error::unavailable(format!(
            "the Firestore emulator did not start on {} (log {}):\n{tail}",
            self.host,
            log.display()
        )))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(watcher) = self.watcher.take() {
            let _ = watcher.join();
        }
    }
}

/// Whether the process has ended: gone, or a zombie (its watcher reaps it only when told to
/// stop, so a JVM that died at once stays in the process table until then).
fn exited(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // `pid (comm) S …`: the state follows the command name's closing parenthesis.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_none_or(|state| state == "Z" || state == "X"),
        Err(_) => true,
    }
}

/// SIGTERM, then SIGKILL if the JVM has not exited within five seconds; always reaped.
fn terminate(child: &mut std::process::Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn find_jar() -> Result<PathBuf> {
    if let Some(jar) = std::env::var_os("FIREGATE_FIRESTORE_EMULATOR_JAR") {
        return Ok(PathBuf::from(jar));
    }
    KNOWN_JARS
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| {
            Error::config(
                "the Firestore emulator is not installed: install the Debian package \
                 google-cloud-cli-firestore-emulator, set FIREGATE_FIRESTORE_EMULATOR_JAR to its \
                 jar, or set FIRESTORE_EMULATOR_HOST to a running emulator",
            )
        })
}

fn java() -> String {
    match std::env::var_os("JAVA_HOME") {
        Some(home) => Path::new(&home).join("bin/java").display().to_string(),
        None => "java".to_string(),
    }
}

fn free_port() -> Result<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(Error::io("cannot find a free port on 127.0.0.1"))
}

/// True when `GET /` on `host` answers 200 (the emulator's readiness signal).
fn answers_ok(host: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(host) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(b"GET / HTTP/1.0\r\n\r\n").is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.ends_with(b" 200")
}
