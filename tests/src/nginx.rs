//! A real nginx (Debian's package) listening on `[::1]` on a free port, for the probe
//! tests and the demo; stopped when dropped.

use std::net::{Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running nginx.
#[derive(Debug)]
pub struct Nginx {
    /// The port on `[::1]`.
    pub port: u16,
    child: Child,
    dir: PathBuf,
}

/// Whether this machine has an IPv6 loopback address.
pub fn has_ipv6_loopback() -> bool {
    TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).is_ok()
}

/// A port that was free on `[::1]` a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).and_then(|l| l.local_addr()).map(|a| a.port()).expect("bind [::1]:0")
}

fn nginx_binary() -> PathBuf {
    for p in ["/usr/sbin/nginx", "/usr/bin/nginx"] {
        if std::path::Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!("nginx is not installed: `make test` installs Debian's nginx (apt-get install nginx)");
}

/// The directory with Debian's default page ("Welcome to nginx!").
fn html_root() -> &'static str {
    for p in ["/usr/share/nginx/html", "/var/www/html"] {
        if std::path::Path::new(p).join("index.html").exists()
            || std::path::Path::new(p).join("index.nginx-debian.html").exists()
        {
            return p;
        }
    }
    "/usr/share/nginx/html"
}

impl Nginx {
    /// Starts nginx in the foreground on `[::1]:<free port>` and waits until it accepts.
    pub fn start() -> Self {
        assert!(
            has_ipv6_loopback(),
            "this machine has no IPv6 loopback address (::1): the IPv6 probe cannot be tested here"
        );
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("eks6-nginx-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let conf = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\npid {dir}/nginx.pid;\nerror_log stderr crit;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {dir};\n  proxy_temp_path {dir};\n  fastcgi_temp_path {dir};\n  uwsgi_temp_path {dir};\n  scgi_temp_path {dir};\n\
               server {{\n    listen [::1]:{port};\n    root {root};\n    index index.html index.nginx-debian.html;\n  }}\n}}\n",
            dir = dir.display(),
            root = html_root(),
        );
        std::fs::write(dir.join("nginx.conf"), conf).unwrap();
        let child = Command::new(nginx_binary())
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .arg("-p")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start nginx");
        let mut me = Self { port, child, dir };
        let start = Instant::now();
        let addr = SocketAddr::from((Ipv6Addr::LOCALHOST, port));
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Ok(Some(status)) = me.child.try_wait() {
                panic!("nginx exited at start: {status}");
            }
            assert!(start.elapsed() < Duration::from_secs(10), "nginx did not listen on [::1]:{port} within 10 s");
            std::thread::sleep(Duration::from_millis(10));
        }
        me.port = port;
        me
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
