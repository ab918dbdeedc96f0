//! Starts the server binary on a free port and stops it with SIGTERM.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The server, running; stopped with SIGTERM when [`Server::stop`] is called.
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Server {
    /// Runs `bin --addr 127.0.0.1:0 --workers 1` and waits for the line
    /// that says where it listens.
    #[allow(dead_code)] // a template whose server needs flags uses `start_with`
    pub fn start(bin: &str) -> Server {
        Server::start_with(bin, &[])
    }

    /// [`Server::start`] with more flags after `--workers 1`.
    pub fn start_with(bin: &str, args: &[&str]) -> Server {
        let mut child = Command::new(bin)
            .args(["--addr", "127.0.0.1:0", "--workers", "1"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the server");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match rx.recv_timeout(left) {
                Ok(line) => line,
                Err(_) => {
                    let _ = child.kill();
                    panic!("the server printed no `listening on` line");
                }
            };
            let Some((_, rest)) = line.split_once("listening on ") else {
                continue;
            };
            let word = rest.split_whitespace().next().unwrap_or_default();
            if let Ok(addr) = word.parse() {
                return Server { child, addr };
            }
        }
    }

    /// Sends SIGTERM and checks the server exits 0 within ten seconds.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(killed.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("wait") {
                assert!(status.success(), "the server exited with {status}");
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        panic!("the server did not stop within 10 s of SIGTERM");
    }
}

/// `GET path` on a new connection (`Connection: close`): the whole
/// response, head and body, as text.
#[allow(dead_code)] // not every template speaks HTTP
pub fn http_get(addr: SocketAddr, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send the request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read the response");
    answer
}
