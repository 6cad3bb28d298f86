//! PostgreSQL and MariaDB for the rehearsals: each started once per test process on a free
//! loopback port, in a scratch directory, and killed by the kernel when the process ends
//! (`setpriv --pdeathsig KILL`), like the Firestore emulator.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long a server may take to accept its first connection.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A database server this process started.
pub struct Server {
    pub port: u16,
    /// Its scratch directory: data, socket and log.
    pub dir: PathBuf,
}

/// The run's PostgreSQL (user `postgres`, trust authentication), started on first use.
pub fn postgres() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(start_postgres)
}

/// The run's MariaDB (user `root`, no password), started on first use.
pub fn mariadb() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(start_mariadb)
}

/// `program` on the `PATH`, or in the `sbin` directories a user's `PATH` often lacks
/// (Debian installs `mariadbd` in `/usr/sbin`).
pub fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// Fails the test at once, naming the Debian package, when `program` is not installed.
pub fn require(program: &str, package: &str) -> PathBuf {
    find(program)
        .unwrap_or_else(|| panic!("{program} is missing: install the Debian package {package}"))
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn start_postgres() -> Server {
    let bin = postgres_bin()
        .unwrap_or_else(|| panic!("PostgreSQL is missing: install the Debian package postgresql"));
    let dir = scratch_dir("postgres");
    let data = dir.join("data");
    // PostgreSQL refuses to run as root: as root, run it as the `postgres` user its Debian
    // package creates, in a directory that user owns.
    let as_postgres: Vec<&str> = if running_as_root() {
        std::os::unix::fs::chown(&dir, Some(postgres_id("-u")), Some(postgres_id("-g")))
            .expect("give the PostgreSQL directory to the postgres user");
        vec!["--reuid=postgres", "--regid=postgres", "--clear-groups"]
    } else {
        vec![]
    };
    let initdb = Command::new("setpriv")
        .args(&as_postgres)
        .arg("--")
        .arg(bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args(["-U", "postgres", "--auth=trust", "-E", "UTF8"])
        .args(["--locale=C.UTF-8", "--no-sync", "--no-instructions"])
        .output()
        .expect("run initdb");
    assert!(
        initdb.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&initdb.stderr)
    );
    let port = crate::common::free_addr().port();
    let mut command = Command::new("setpriv");
    command
        .args(&as_postgres)
        .args(["--pdeathsig", "KILL", "--"])
        .arg(bin.join("postgres"))
        .arg("-D")
        .arg(&data)
        .args(["-p", &port.to_string(), "-k"])
        .arg(&dir)
        // Scratch data: durability costs time and buys nothing here.
        .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
        .args(["-c", "synchronous_commit=off", "-c", "full_page_writes=off"]);
    let psql = require("psql", "postgresql-client");
    let server = Server { port, dir };
    spawn(
        command,
        &server.dir.join("server.log"),
        "PostgreSQL",
        || {
            Command::new(&psql)
                .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres"])
                .args(["-d", "postgres", "-Atc", "select 1"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        },
    );
    server
}

fn start_mariadb() -> Server {
    let install = require("mariadb-install-db", "mariadb-server");
    let mariadbd = require("mariadbd", "mariadb-server");
    let mysql = require("mysql", "mariadb-client");
    let dir = scratch_dir("mariadb");
    let data = dir.join("data");
    let root = running_as_root();
    let user: &[&str] = if root { &["--user=root"] } else { &[] };
    let output = Command::new(install)
        .arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
        .args(user)
        .output()
        .expect("run mariadb-install-db");
    assert!(
        output.status.success(),
        "mariadb-install-db failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let port = crate::common::free_addr().port();
    let mut command = Command::new("setpriv");
    command
        .args(["--pdeathsig", "KILL", "--"])
        .arg(mariadbd)
        .arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .arg(format!("--port={port}"))
        .arg(format!("--socket={}", dir.join("mysqld.sock").display()))
        .arg(format!("--pid-file={}", dir.join("mysqld.pid").display()))
        .args(["--skip-networking=0", "--bind-address=127.0.0.1"])
        // The sql_mode MySQL 8 and many hosts ship, which refuses zero dates: WordPress's
        // own connection drops NO_ZERO_DATE and the strict modes for its session, as the
        // generator does, so rows keep the `0000-00-00 00:00:00` dates real sites have.
        .arg(
            "--sql-mode=ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,\
             ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION",
        )
        .args(["--innodb-flush-log-at-trx-commit=0", "--skip-log-bin"])
        .args(user);
    let server = Server { port, dir };
    spawn(command, &server.dir.join("server.log"), "MariaDB", || {
        Command::new(&mysql)
            .args(["--no-defaults", "-h", "127.0.0.1", "-P", &port.to_string()])
            .args(["-u", "root", "-e", "select 1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    server
}

/// Debian's newest PostgreSQL server binaries (`/usr/lib/postgresql/N/bin`).
pub fn postgres_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("postgres").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// The postgres user's uid (`-u`) or gid (`-g`).
fn postgres_id(which: &str) -> u32 {
    let output = Command::new("id")
        .args([which, "postgres"])
        .output()
        .expect("run id");
    assert!(
        output.status.success(),
        "there is no postgres user: install the Debian package postgresql"
    );
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("id prints a number")
}

/// A fresh directory for one server of this process, under the system's temporary
/// directory; those of processes that have ended are removed first (a static server is
/// never dropped, so its directory cannot be removed on drop).
fn scratch_dir(kind: &str) -> PathBuf {
    let parent = std::env::temp_dir().join("firegate-rehearsal");
    std::fs::create_dir_all(&parent).expect("create the rehearsal scratch directory");
    for entry in std::fs::read_dir(&parent).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let owner = name
            .rsplit('-')
            .next()
            .and_then(|pid| pid.parse::<u32>().ok());
        if owner.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let dir = parent.join(format!("{kind}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a server directory");
    dir
}

/// Starts `command` (its output to `log`) on a thread that lives as long as the server —
/// PR_SET_PDEATHSIG fires when the spawning *thread* ends — and waits until `ready()`.
fn spawn(mut command: Command, log: &Path, what: &str, ready: impl Fn() -> bool) {
    let file = std::fs::File::create(log).expect("create the server log");
    command
        .stdin(Stdio::null())
        .stdout(file.try_clone().expect("reopen the server log"))
        .stderr(file);
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name(format!("{what} server"))
        .spawn(move || match command.spawn() {
            Ok(mut child) => {
                let _ = started_tx.send(Ok(()));
                let status = child.wait();
                let _ = started_tx.send(Err(format!("exited: {status:?}")));
            }
            Err(e) => {
                let _ = started_tx.send(Err(format!("cannot run setpriv (util-linux): {e}")));
            }
        })
        .expect("start a server thread");
    started_rx
        .recv()
        .expect("the server thread reports")
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if ready() {
            return;
        }
        let ended = started_rx.try_recv().is_ok();
        if ended || Instant::now() > deadline {
            let tail = std::fs::read_to_string(log).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(15).collect();
            panic!(
                "{what} did not start ({}):\n{}",
                log.display(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
