//! `Peer`: where a [`Client`](super::Client) sends a request (an address,
//! the name for the `Host` field, and whether to speak TLS), and the
//! `http://` / `https://` URLs that name one.

use std::fmt;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use super::{ClientError, ClientErrorKind};

/// The server a request goes to: a socket address, plus for HTTPS the
/// server name its certificate must be valid for (also sent as SNI), and
/// for the `Host` field the name the server is known by.
///
/// [`Client::send`](super::Client::send) takes a `SocketAddr` for plain
/// HTTP; [`Client::send_to`](super::Client::send_to) takes a `Peer`, made
/// with [`Peer::http`], [`Peer::https`] or [`Peer::from_url`].
///
/// ```
/// use corering::http::client::Peer;
/// let p = Peer::from_url("https://127.0.0.1:8443").unwrap();
/// assert!(p.is_tls());
/// assert_eq!(p.addr().port(), 8443);
/// let plain: Peer = "127.0.0.1:8080".parse::<std::net::SocketAddr>().unwrap().into();
/// assert!(!plain.is_tls());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Peer {
    addr: SocketAddr,
    /// The host name as given (for `Host` and, with TLS, verification).
    host: Option<Arc<str>>,
    tls: bool,
}

impl Peer {
    /// Plain HTTP to `addr`; `Host` is the address.
    ///
    /// ```
    /// use corering::http::client::Peer;
    /// let peer = Peer::http("127.0.0.1:8080".parse().unwrap());
    /// assert!(!peer.is_tls());
    /// ```
    pub fn http(addr: SocketAddr) -> Peer {
        Peer {
            addr,
            host: None,
            tls: false,
        }
    }

    /// HTTPS to `addr`, verifying the server's certificate for
    /// `server_name` (a DNS name or an IP address), which is also the
    /// `Host` and, for a DNS name, the SNI sent.
    ///
    /// ```
    /// use corering::http::client::Peer;
    /// let peer = Peer::https("93.184.215.14:443".parse().unwrap(), "example.com");
    /// assert!(peer.is_tls());
    /// assert_eq!(peer.host(), Some("example.com"));
    /// ```
    pub fn https(addr: SocketAddr, server_name: &str) -> Peer {
        Peer {
            addr,
            host: Some(server_name.into()),
            tls: true,
        }
    }

    /// Sets the name used in the `Host` field (and, for HTTPS, verified).
    ///
    /// ```
    /// use corering::http::client::Peer;
    /// let peer = Peer::http("127.0.0.1:8080".parse().unwrap()).with_host("api.internal");
    /// assert_eq!(peer.host(), Some("api.internal"));
    /// ```
    pub fn with_host(mut self, host: &str) -> Peer {
        self.host = Some(host.into());
        self
    }

    /// The peer an `http://HOST[:PORT]` or `https://HOST[:PORT]` URL names
    /// (a path after it is ignored; see [`split_url`]). The host is
    /// resolved with the system resolver, which may block the worker on a
    /// DNS lookup: resolve once at startup (as `examples/proxy` does) or
    /// use an IP address on a hot path.
    ///
    /// ```
    /// use corering::http::client::Peer;
    /// let peer = Peer::from_url("http://127.0.0.1:9000/ignored").unwrap();
    /// assert_eq!(peer.addr().port(), 9000);
    /// assert!(Peer::from_url("ftp://x").is_err());
    /// ```
    pub fn from_url(url: &str) -> Result<Peer, ClientError> {
        let (peer, _) = split_url(url)?;
        Ok(peer)
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// True for HTTPS.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The host name, if one was given.
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    /// The name a TLS certificate must be valid for: the host name, else
    /// the IP address.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) fn server_name(&self) -> String {
        match &self.host {
            Some(h) => h.to_string(),
            None => self.addr.ip().to_string(),
        }
    }

    /// The `Host` field's value: the name with the port unless it is the
    /// scheme's default, else the address.
    pub(crate) fn host_field(&self) -> String {
        let default = if self.tls { 443 } else { 80 };
        match &self.host {
            Some(h) if self.addr.port() == default => h.to_string(),
            Some(h) if h.contains(':') => format!("[{h}]:{}", self.addr.port()),
            Some(h) => format!("{h}:{}", self.addr.port()),
            None => self.addr.to_string(),
        }
    }
}

impl From<SocketAddr> for Peer {
    fn from(addr: SocketAddr) -> Peer {
        Peer::http(addr)
    }
}

impl From<&Peer> for Peer {
    fn from(p: &Peer) -> Peer {
        p.clone()
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "https" } else { "http" };
        match &self.host {
            Some(_) => write!(f, "{scheme}://{} ({})", self.host_field(), self.addr),
            None => write!(f, "{scheme}://{}", self.addr),
        }
    }
}

impl fmt::Debug for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

fn bad_url(url: &str, why: &str) -> ClientError {
    ClientError::new(
        ClientErrorKind::InvalidRequest,
        format!("invalid URL {url:?}: {why}"),
    )
}

/// Splits an absolute `http://` or `https://` URL into its peer (the host
/// resolved as for [`Peer::from_url`]) and its request target (`/` when
/// the URL has no path). User info and fragments are refused.
///
/// ```
/// use corering::http::client::split_url;
/// let (peer, target) = split_url("http://127.0.0.1:8080/a/b?c=1").unwrap();
/// assert_eq!(peer.addr().port(), 8080);
/// assert_eq!(target, "/a/b?c=1");
/// ```
pub fn split_url(url: &str) -> Result<(Peer, String), ClientError> {
    let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(bad_url(url, "only http:// and https:// URLs are supported"));
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    if path.contains('#') {
        return Err(bad_url(url, "a fragment is not sent to servers"));
    }
    if authority.contains('@') {
        return Err(bad_url(url, "user info in URLs is not supported"));
    }
    let default = if tls { 443 } else { 80 };
    let (host, port) = split_authority(authority, default).ok_or_else(|| {
        bad_url(
            url,
            "expected HOST, HOST:PORT or [IPv6]:PORT after the scheme",
        )
    })?;
    let addr = resolve(host, port).map_err(|e| {
        ClientError::new(
            ClientErrorKind::Connect,
            format!("cannot resolve {host:?} in {url:?}: {e}"),
        )
    })?;
    let target = match path {
        "" => "/".to_string(),
        p if p.starts_with('?') => format!("/{p}"),
        p => p.to_string(),
    };
    let peer = Peer {
        addr,
        host: Some(host.into()),
        tls,
    };
    Ok((peer, target))
}

/// `host[:port]` or `[v6][:port]`.
fn split_authority(a: &str, default: u16) -> Option<(&str, u16)> {
    let (host, port) = if let Some(r) = a.strip_prefix('[') {
        let close = r.find(']')?;
        let host = &r[..close];
        match &r[close + 1..] {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':')?)),
        }
    } else {
        match a.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (a, None),
        }
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        None => default,
        Some(p) => p.parse().ok().filter(|&p| p != 0)?,
    };
    Some((host, port))
}

fn resolve(host: &str, port: u16) -> std::io::Result<SocketAddr> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    (host, port).to_socket_addrs()?.next().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::NotFound, "no address for this name")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_peer_and_target() {
        let (p, t) = split_url("https://127.0.0.1").unwrap();
        assert!(p.is_tls());
        assert_eq!(p.addr(), "127.0.0.1:443".parse().unwrap());
        assert_eq!(t, "/");
        assert_eq!(p.host_field(), "127.0.0.1");
        let (p, t) = split_url("http://[::1]:8080?x=1").unwrap();
        assert_eq!(p.addr(), "[::1]:8080".parse().unwrap());
        assert_eq!(t, "/?x=1");
        assert_eq!(p.host_field(), "[::1]:8080");
        let (p, _) = split_url("http://localhost:81/").unwrap();
        assert_eq!(p.host_field(), "localhost:81");
        assert_eq!(p.server_name(), "localhost");
    }

    #[test]
    fn bad_urls_are_refused_with_the_reason() {
        for (url, why) in [
            ("ftp://x/", "only http"),
            ("http://", "expected HOST"),
            ("http://x:0/", "expected HOST"),
            ("http://x:99999/", "expected HOST"),
            ("http://u@x/", "user info"),
            ("http://x/#f", "fragment"),
            ("http://[::1/", "expected HOST"),
        ] {
            let e = split_url(url).unwrap_err();
            assert_eq!(e.kind(), ClientErrorKind::InvalidRequest, "{url}");
            assert!(e.to_string().contains(why), "{url}: {e}");
        }
    }

    #[test]
    fn plain_peers_from_addresses() {
        let a: SocketAddr = "10.0.0.1:8080".parse().unwrap();
        let p = Peer::from(a);
        assert!(!p.is_tls());
        assert_eq!(p.host_field(), "10.0.0.1:8080");
        let p = Peer::https(a, "api.test");
        assert_eq!(p.host_field(), "api.test:8080");
        assert_eq!(p.server_name(), "api.test");
    }
}
