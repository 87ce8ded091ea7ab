//! A real `redis-server` on a free loopback port for the tests of the shared layer
//! cache and of fleet scans: no persistence, its directory temporary, killed on drop.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::harness::skip;
use super::tmp;

/// The key the cache increments per walked layer in the tests
/// (`IMGSIZE_TEST_WALK_COUNTER`).
pub const WALKS: &str = "test:walks";

/// A `redis-server` of its own, killed (and its directory removed) on drop.
pub struct Server {
    pub child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// A fresh server; the test is skipped when `redis-server` is not installed.
    pub fn start() -> Server {
        if Command::new("redis-server")
            .arg("--version")
            .output()
            .is_err()
        {
            skip("redis-server is not installed (apt-get install redis-server)");
        }
        let dir = tmp();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("start redis-server");
        let server = Server {
            child,
            port,
            _dir: dir,
        };
        server.wait_ready();
        server
    }

    pub fn wait_ready(&self) {
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            let ping = redis::Client::open(self.url().as_str())
                .and_then(|c| c.get_connection())
                .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c));
            if ping.is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not answer on port {}", self.port);
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    pub fn conn(&self) -> redis::Connection {
        redis::Client::open(self.url().as_str())
            .and_then(|c| c.get_connection())
            .expect("connect to redis-server")
    }

    /// Layers walked so far by every worker using this server.
    pub fn walks(&self) -> u64 {
        let n: Option<u64> = redis::cmd("GET")
            .arg(WALKS)
            .query(&mut self.conn())
            .expect("GET");
        n.unwrap_or(0)
    }

    /// The keys of the layer entries (not their locks), sorted.
    pub fn layer_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = redis::cmd("KEYS")
            .arg("imgsize:v*:layer:*")
            .query(&mut self.conn())
            .expect("KEYS");
        keys.retain(|k| !k.ends_with(":lock"));
        keys.sort();
        keys
    }

    pub fn value(&self, key: &str) -> Vec<u8> {
        redis::cmd("GET")
            .arg(key)
            .query(&mut self.conn())
            .expect("GET")
    }

    pub fn set(&self, key: &str, value: &[u8]) {
        let () = redis::cmd("SET")
            .arg(key)
            .arg(value)
            .query(&mut self.conn())
            .expect("SET");
    }
}
