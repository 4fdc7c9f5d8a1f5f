//! Email over SMTP: a small client of its own (RFC 5321), on tokio.
//!
//! Why not `lettre`: it is a large crate (its own TLS and transport stacks, many features) for
//! one plain-text message per alert; the exchange needed here is short and is written below:
//! greeting, `EHLO`, optional `AUTH PLAIN` (RFC 4616), `MAIL FROM`, `RCPT TO` per recipient,
//! `DATA` with dot-stuffing (RFC 5321 §4.5.2) and CRLF line ends, `QUIT`. There is no TLS:
//! send to a relay on the same host or network (a local Postfix, a cloud provider's relay
//! endpoint reached through a private link), which then speaks TLS to the world. `AUTH PLAIN`
//! sends the password in clear over that connection: it is only used when credentials are set,
//! and only after the server advertised `AUTH PLAIN`.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use secrecy::{ExposeSecret, SecretString};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use odoo_connect_sync::async_trait;

use super::{AlertError, Notice, Notifier, NotifyError};

/// Email to a fixed list of recipients through an SMTP relay.
#[derive(Clone)]
pub struct EmailSmtp {
    name: String,
    host: String,
    port: u16,
    helo: String,
    from: String,
    to: Vec<String>,
    credentials: Option<(String, SecretString)>,
    timeout: Duration,
}

impl fmt::Debug for EmailSmtp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailSmtp")
            .field("name", &self.name)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("from", &self.from)
            .field("to", &self.to)
            .field(
                "credentials",
                &self
                    .credentials
                    .as_ref()
                    .map(|(user, _)| (user, "** redacted **")),
            )
            .finish()
    }
}

/// Builds an [`EmailSmtp`] notifier.
#[derive(Debug)]
pub struct EmailSmtpBuilder {
    inner: EmailSmtp,
}

impl EmailSmtp {
    /// A builder sending from `from` to `to` through the relay at `host:port`.
    pub fn builder(
        host: impl Into<String>,
        port: u16,
        from: impl Into<String>,
        to: impl IntoIterator<Item = impl Into<String>>,
    ) -> EmailSmtpBuilder {
        EmailSmtpBuilder {
            inner: EmailSmtp {
                name: "email".to_owned(),
                host: host.into(),
                port,
                helo: "localhost".to_owned(),
                from: from.into(),
                to: to.into_iter().map(Into::into).collect(),
                credentials: None,
                timeout: Duration::from_secs(30),
            },
        }
    }

    /// The message (headers and body, CRLF line ends, before dot-stuffing) sent for `notice`.
    pub fn message(&self, notice: &Notice) -> String {
        let mut out = String::new();
        let mut header = |name: &str, value: &str| {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(value);
            out.push_str("\r\n");
        };
        header("From", &format!("<{}>", self.from));
        header(
            "To",
            &self
                .to
                .iter()
                .map(|t| format!("<{t}>"))
                .collect::<Vec<_>>()
                .join(", "),
        );
        header("Subject", &encode_header(&notice.title()));
        header("Date", &notice.at.to_rfc2822());
        let domain = self.from.rsplit('@').next().unwrap_or("localhost");
        header(
            "Message-ID",
            &format!(
                "<alert.{}.{}.{}@{domain}>",
                sanitize_id(&notice.alert.key),
                match notice.kind {
                    super::NoticeKind::Firing => "firing",
                    super::NoticeKind::Resolved => "resolved",
                },
                notice.at.timestamp()
            ),
        );
        header("MIME-Version", "1.0");
        header("Content-Type", "text/plain; charset=utf-8");
        let body = notice.text_lines().join("\r\n");
        if body.is_ascii() {
            header("Content-Transfer-Encoding", "7bit");
            out.push_str("\r\n");
            out.push_str(&body);
        } else {
            header("Content-Transfer-Encoding", "base64");
            out.push_str("\r\n");
            let encoded = BASE64.encode(body.as_bytes());
            for chunk in encoded.as_bytes().chunks(76) {
                out.push_str(&String::from_utf8_lossy(chunk));
                out.push_str("\r\n");
            }
        }
        if !out.ends_with("\r\n") {
            out.push_str("\r\n");
        }
        out
    }

    async fn send(&self, notice: &Notice) -> Result<(), NotifyError> {
        let stream = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(NotifyError::Io)?;
        let (read, mut write) = stream.into_split();
        let mut read = BufReader::new(read);

        expect(&mut read, "greeting", &[220]).await?;
        command(&mut write, &format!("EHLO {}", self.helo)).await?;
        let ehlo = expect(&mut read, "EHLO", &[250]).await?;
        if let Some((user, password)) = &self.credentials {
            let offers_plain = ehlo.iter().any(|line| {
                let upper = line.to_ascii_uppercase();
                upper.starts_with("AUTH") && upper.split([' ', '=']).any(|m| m == "PLAIN")
            });
            if !offers_plain {
                return Err(NotifyError::Smtp {
                    command: "AUTH",
                    code: 0,
                    text: "the server does not offer AUTH PLAIN".to_owned(),
                });
            }
            let token = BASE64.encode(format!("\0{user}\0{}", password.expose_secret()));
            command(&mut write, &format!("AUTH PLAIN {token}")).await?;
            expect(&mut read, "AUTH", &[235]).await?;
        }
        command(&mut write, &format!("MAIL FROM:<{}>", self.from)).await?;
        expect(&mut read, "MAIL FROM", &[250]).await?;
        for to in &self.to {
            command(&mut write, &format!("RCPT TO:<{to}>")).await?;
            expect(&mut read, "RCPT TO", &[250, 251]).await?;
        }
        command(&mut write, "DATA").await?;
        expect(&mut read, "DATA", &[354]).await?;
        let data = dot_stuff(&self.message(notice));
        write
            .write_all(data.as_bytes())
            .await
            .map_err(NotifyError::Io)?;
        write.write_all(b".\r\n").await.map_err(NotifyError::Io)?;
        write.flush().await.map_err(NotifyError::Io)?;
        expect(&mut read, "end of DATA", &[250]).await?;
        command(&mut write, "QUIT").await?;
        // The message is accepted; a server that hangs up without answering QUIT changes nothing.
        let _ = expect(&mut read, "QUIT", &[221]).await;
        Ok(())
    }
}

impl EmailSmtpBuilder {
    /// Logs in with `AUTH PLAIN` (only over a connection you trust: there is no TLS).
    pub fn credentials(
        mut self,
        user: impl Into<String>,
        password: impl Into<SecretString>,
    ) -> Self {
        self.inner.credentials = Some((user.into(), password.into()));
        self
    }

    /// The name given in `EHLO` (default `localhost`).
    pub fn helo(mut self, name: impl Into<String>) -> Self {
        self.inner.helo = name.into();
        self
    }

    /// The longest a whole exchange may take (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.inner.timeout = timeout;
        self
    }

    /// Another channel name (default `email`).
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.inner.name = name.into();
        self
    }

    /// The notifier, or what is wrong with the addresses.
    pub fn build(self) -> Result<EmailSmtp, AlertError> {
        let e = &self.inner;
        if e.host.is_empty() || e.host.contains(char::is_whitespace) {
            return Err(AlertError::Config(
                "the SMTP host is empty or has spaces".to_owned(),
            ));
        }
        if e.to.is_empty() {
            return Err(AlertError::Config(
                "an email alert needs a recipient".to_owned(),
            ));
        }
        for address in std::iter::once(&e.from).chain(&e.to) {
            if !is_plain_address(address) {
                return Err(AlertError::Config(format!(
                    "{address:?} is not a plain mailbox address (local@domain)"
                )));
            }
        }
        if !e.helo.bytes().all(|b| b.is_ascii_graphic()) || e.helo.is_empty() {
            return Err(AlertError::Config(
                "the EHLO name must be one printable word".to_owned(),
            ));
        }
        if let Some((user, _)) = &e.credentials
            && user.contains(['\0', '\r', '\n'])
        {
            return Err(AlertError::Config(
                "the SMTP user has a control character".to_owned(),
            ));
        }
        Ok(self.inner)
    }
}

#[async_trait]
impl Notifier for EmailSmtp {
    fn name(&self) -> &str {
        &self.name
    }

    async fn notify(&self, notice: &Notice) -> Result<Option<String>, NotifyError> {
        match tokio::time::timeout(self.timeout, self.send(notice)).await {
            Ok(result) => result.map(|()| None),
            Err(_) => Err(NotifyError::Timeout {
                channel: self.name.clone(),
            }),
        }
    }
}

/// `local@domain`, printable ASCII, no angle brackets, spaces or control characters (what
/// goes into `MAIL FROM:<...>` and headers verbatim).
fn is_plain_address(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && address
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'(' | b')' | b',' | b';'))
}

/// Dot-stuffing (RFC 5321 §4.5.2): every line starting with `.` gets one more; line ends are
/// made CRLF. The result ends with CRLF, ready for the closing `.` line.
pub(crate) fn dot_stuff(message: &str) -> String {
    let mut out = String::with_capacity(message.len() + 16);
    for line in message.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with('.') {
            out.push('.');
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    // `split` yields an empty last piece after a final line end: drop its CRLF.
    if message.ends_with('\n') {
        out.truncate(out.len() - 2);
    }
    out
}

/// A header value: as it is when printable ASCII, else an RFC 2047 `=?UTF-8?B?...?=` word.
/// Control characters (CR, LF) never pass through.
fn encode_header(value: &str) -> String {
    let clean: String = value.chars().filter(|c| !c.is_control()).collect();
    if clean.is_ascii() {
        clean
    } else {
        format!("=?UTF-8?B?{}?=", BASE64.encode(clean.as_bytes()))
    }
}

fn sanitize_id(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '.'
            }
        })
        .collect()
}

async fn command(
    write: &mut tokio::net::tcp::OwnedWriteHalf,
    line: &str,
) -> Result<(), NotifyError> {
    write
        .write_all(format!("{line}\r\n").as_bytes())
        .await
        .map_err(NotifyError::Io)
}

/// Reads one (possibly multi-line) reply; its lines' texts when the code is one of `codes`.
async fn expect(
    read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    what: &'static str,
    codes: &[u16],
) -> Result<Vec<String>, NotifyError> {
    let mut lines = Vec::new();
    let code = loop {
        let mut line = String::new();
        let n = read.read_line(&mut line).await.map_err(NotifyError::Io)?;
        if n == 0 {
            return Err(NotifyError::Smtp {
                command: what,
                code: 0,
                text: "the server closed the connection".to_owned(),
            });
        }
        let line = line.trim_end_matches(['\r', '\n']);
        let parsed = line.get(..3).and_then(|c| c.parse::<u16>().ok());
        let Some(this) = parsed else {
            return Err(NotifyError::Smtp {
                command: what,
                code: 0,
                text: format!(
                    "not an SMTP reply: {}",
                    line.chars().take(200).collect::<String>()
                ),
            });
        };
        let more = line.as_bytes().get(3) == Some(&b'-');
        lines.push(line.get(4..).unwrap_or("").to_owned());
        if !more {
            break this;
        }
    };
    if codes.contains(&code) {
        Ok(lines)
    } else {
        Err(NotifyError::Smtp {
            command: what,
            code,
            text: lines.join(" "),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_stuffing_doubles_leading_dots_and_ends_lines_with_crlf() {
        assert_eq!(dot_stuff("a\n.b\r\n..c\n"), "a\r\n..b\r\n...c\r\n");
        assert_eq!(dot_stuff("."), "..\r\n");
        assert_eq!(dot_stuff("x"), "x\r\n");
    }

    #[test]
    fn headers_are_ascii_and_single_line() {
        assert_eq!(encode_header("a\r\nBcc: x"), "aBcc: x");
        assert_eq!(encode_header("Zürich"), "=?UTF-8?B?WsO8cmljaA==?=");
    }

    #[test]
    fn addresses_are_checked() {
        assert!(is_plain_address("ops@firm.example"));
        assert!(!is_plain_address("ops@firm.example>\r\nRCPT TO:<x@y"));
        assert!(!is_plain_address("Ops <ops@firm.example>"));
        assert!(!is_plain_address("nobody"));
    }
}
