//! Where to connect and how (CONTRACT §10): the connection from `--db URL`, `POSTGRES_URL`
//! or libpq's `PG*` variables; the password from `VCF_PG_LOADER_DB_PASSWORD` first; TLS mode
//! from the flag, `VCF_PG_LOADER_TLS_MODE`, `PGSSLMODE`, the URL's `sslmode` (in that order),
//! default `verify-full` for a non-loopback host. libpq's `sslmode`/`sslrootcert` are taken
//! out of the connection string here: the client library's own parser refuses `verify-full`.
//! Data never goes over plain TCP to a non-loopback host unless `disable` was asked for.

use crate::error::{CliError, Result};
use crate::tls;
use postgres::config::{Host, SslMode};
use postgres::{Client, Config};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    Disable,
    /// libpq's allow/prefer: TLS if the server offers it. Only to a loopback host or socket.
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl TlsMode {
    pub fn parse(s: &str) -> Option<TlsMode> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "disable" => TlsMode::Disable,
            "allow" | "prefer" => TlsMode::Prefer,
            "require" => TlsMode::Require,
            "verify-ca" => TlsMode::VerifyCa,
            "verify-full" => TlsMode::VerifyFull,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::Disable => "disable",
            TlsMode::Prefer => "prefer",
            TlsMode::Require => "require",
            TlsMode::VerifyCa => "verify-ca",
            TlsMode::VerifyFull => "verify-full",
        }
    }
}

/// Everything the environment says about the connection; filled from the process
/// environment by [`Sources::from_env`], by hand in tests.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    pub db_flag: Option<String>,
    pub tls_flag: Option<String>,
    pub ca_flag: Option<String>,
    pub postgres_url: Option<String>,
    pub tls_env: Option<String>,
    pub ca_env: Option<String>,
    pub password_env: Option<String>,
    pub pghost: Option<String>,
    pub pgport: Option<String>,
    pub pguser: Option<String>,
    pub pgdatabase: Option<String>,
    pub pgpassword: Option<String>,
    pub pgsslmode: Option<String>,
    pub pgsslrootcert: Option<String>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Sources {
    pub fn from_env(
        db_flag: Option<String>,
        tls_flag: Option<String>,
        ca_flag: Option<String>,
    ) -> Self {
        Sources {
            db_flag,
            tls_flag,
            ca_flag,
            postgres_url: env("POSTGRES_URL"),
            tls_env: env("VCF_PG_LOADER_TLS_MODE"),
            ca_env: env("VCF_PG_LOADER_TLS_CA_CERT"),
            password_env: env("VCF_PG_LOADER_DB_PASSWORD"),
            pghost: env("PGHOST"),
            pgport: env("PGPORT"),
            pguser: env("PGUSER"),
            pgdatabase: env("PGDATABASE"),
            pgpassword: env("PGPASSWORD"),
            pgsslmode: env("PGSSLMODE"),
            pgsslrootcert: env("PGSSLROOTCERT"),
        }
    }
}

/// A resolved connection: the client library's config (no sslmode in it), our TLS mode and
/// the CA bundle to verify against.
pub struct Target {
    pub config: Config,
    pub tls: TlsMode,
    pub ca_file: Option<String>,
    /// For messages: host (or socket directory), port and database; never the password.
    pub label: String,
}

/// Split libpq's TLS options out of a connection string (URL or key=value form).
fn take_tls_options(conn: &str) -> (String, Option<String>, Option<String>) {
    let (mut mode, mut root) = (None, None);
    let mut take = |k: &str, v: &str| match k {
        "sslmode" => {
            mode = Some(v.to_string());
            true
        }
        "sslrootcert" => {
            root = Some(v.to_string());
            true
        }
        _ => false,
    };
    if conn.starts_with("postgres://") || conn.starts_with("postgresql://") {
        let Some((base, query)) = conn.split_once('?') else {
            return (conn.to_string(), None, None);
        };
        let kept: Vec<&str> = query
            .split('&')
            .filter(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                !take(k, v)
            })
            .collect();
        let rebuilt = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        (rebuilt, mode, root)
    } else {
        let kept: Vec<&str> = conn
            .split_whitespace()
            .filter(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                !take(k.trim(), v.trim_matches('\''))
            })
            .collect();
        (kept.join(" "), mode, root)
    }
}

pub fn is_loopback(host: &Host) -> bool {
    match host {
        Host::Unix(_) => true,
        Host::Tcp(h) => {
            let h = h.trim_start_matches('[').trim_end_matches(']');
            h.eq_ignore_ascii_case("localhost")
                || h.parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
    }
}

/// Resolve the sources into a [`Target`]; refuses a plain-TCP mode to a non-loopback host
/// that only a default could have chosen.
pub fn resolve(s: &Sources) -> Result<Target> {
    let given = s.db_flag.clone().or_else(|| s.postgres_url.clone());
    let (conn, url_mode, url_root) = match &given {
        Some(c) => take_tls_options(c),
        None => (String::new(), None, None),
    };
    let mut config = if conn.is_empty() {
        Config::new()
    } else {
        Config::from_str(&conn).map_err(|e| {
            CliError::new(format!("invalid connection string: {e}"))
                .hint("postgresql://USER@HOST:5432/DATABASE?sslmode=verify-full, or set PGHOST, PGUSER, PGDATABASE")
        })?
    };
    // libpq's variables fill in what the string did not say.
    if config.get_hosts().is_empty() {
        match &s.pghost {
            Some(h) if h.starts_with('/') => config.host_path(h),
            Some(h) => config.host(h),
            None if std::path::Path::new("/var/run/postgresql").is_dir() => {
                config.host_path("/var/run/postgresql")
            }
            None => config.host("localhost"),
        };
    }
    if config.get_ports().is_empty() {
        if let Some(p) = &s.pgport {
            let port = p
                .parse()
                .map_err(|_| CliError::new(format!("invalid PGPORT \"{p}\"")))?;
            config.port(port);
        }
    }
    if config.get_user().is_none() {
        let user = s
            .pguser
            .clone()
            .or_else(|| env("USER"))
            .unwrap_or_else(|| "postgres".into());
        config.user(&user);
    }
    if config.get_dbname().is_none() {
        if let Some(d) = &s.pgdatabase {
            config.dbname(d);
        }
    }
    // The password: the secrets-manager variable first, then the string, then PGPASSWORD.
    if let Some(p) = &s.password_env {
        config.password(p.as_bytes());
    } else if config.get_password().is_none() {
        if let Some(p) = &s.pgpassword {
            config.password(p.as_bytes());
        }
    }
    config.application_name("vcf-pg-loader");
    let loopback = config.get_hosts().iter().all(is_loopback);
    let chosen = [
        ("--tls-mode", &s.tls_flag),
        ("VCF_PG_LOADER_TLS_MODE", &s.tls_env),
        ("PGSSLMODE", &s.pgsslmode),
        ("sslmode", &url_mode),
    ]
    .into_iter()
    .find_map(|(from, v)| v.as_ref().map(|v| (from, v.clone())));
    let tls = match &chosen {
        Some((from, v)) => TlsMode::parse(v).ok_or_else(|| {
            CliError::new(format!("invalid TLS mode \"{v}\" (from {from})"))
                .hint("disable, require, verify-ca or verify-full")
        })?,
        None if loopback => TlsMode::Prefer,
        None => TlsMode::VerifyFull,
    };
    // prefer may fall back to plain TCP: never towards another host.
    let tls = if tls == TlsMode::Prefer && !loopback {
        TlsMode::Require
    } else {
        tls
    };
    config.ssl_mode(match tls {
        TlsMode::Disable => SslMode::Disable,
        TlsMode::Prefer => SslMode::Prefer,
        _ => SslMode::Require,
    });
    let ca_file = s
        .ca_flag
        .clone()
        .or_else(|| s.ca_env.clone())
        .or_else(|| s.pgsslrootcert.clone())
        .or(url_root);
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => String::new(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let label = format!(
        "{host}:{port}/{}",
        config
            .get_dbname()
            .unwrap_or_else(|| config.get_user().unwrap_or(""))
    );
    Ok(Target {
        config,
        tls,
        ca_file,
        label,
    })
}

/// Connect as the target says.
pub fn connect(t: &Target) -> Result<Client> {
    let what = format!("could not connect to {}", t.label);
    let client = if t.tls == TlsMode::Disable {
        t.config.connect(postgres::NoTls)
    } else {
        let tls = tls::connector(t.tls, t.ca_file.as_deref())?;
        t.config.connect(tls)
    };
    client.map_err(|e| {
        let e = CliError::db(&what, e);
        if t.tls == TlsMode::VerifyFull && e.sqlstate.is_none() {
            e.hint("verify-full checks the server's certificate against VCF_PG_LOADER_TLS_CA_CERT (for RDS: the global bundle) and its host name")
        } else {
            e
        }
    })
}

/// Resolve from the environment and connect.
pub fn open(
    db: Option<String>,
    tls: Option<String>,
    ca: Option<String>,
) -> Result<(Client, Target)> {
    let target = resolve(&Sources::from_env(db, tls, ca))?;
    let client = connect(&target)?;
    Ok((client, target))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(db: &str) -> Sources {
        Sources {
            db_flag: Some(db.into()),
            ..Default::default()
        }
    }

    #[test]
    fn url_sslmode_verify_full_is_accepted_and_taken_out() {
        let t = resolve(&src("postgresql://app@db.example.com:5432/genomics?sslmode=verify-full&sslrootcert=/etc/rds.pem&connect_timeout=5")).unwrap();
        assert_eq!(t.tls, TlsMode::VerifyFull);
        assert_eq!(t.ca_file.as_deref(), Some("/etc/rds.pem"));
        assert_eq!(t.config.get_dbname(), Some("genomics"));
        assert_eq!(
            t.config.get_connect_timeout(),
            Some(&std::time::Duration::from_secs(5))
        );
    }

    #[test]
    fn key_value_strings_work_too() {
        let t = resolve(&src(
            "host=db.example.com user=app dbname=g sslmode=verify-ca",
        ))
        .unwrap();
        assert_eq!(t.tls, TlsMode::VerifyCa);
        assert_eq!(t.config.get_user(), Some("app"));
    }

    #[test]
    fn default_is_verify_full_for_another_host_and_prefer_for_loopback() {
        assert_eq!(
            resolve(&src("postgresql://a@db.example.com/g"))
                .unwrap()
                .tls,
            TlsMode::VerifyFull
        );
        assert_eq!(
            resolve(&src("postgresql://a@localhost/g")).unwrap().tls,
            TlsMode::Prefer
        );
        assert_eq!(
            resolve(&src("postgresql://a@127.0.0.1/g")).unwrap().tls,
            TlsMode::Prefer
        );
        assert_eq!(
            resolve(&src("postgresql://a@[::1]/g")).unwrap().tls,
            TlsMode::Prefer
        );
    }

    #[test]
    fn precedence_flag_env_pgsslmode_url() {
        let mut s = src("postgresql://a@db.example.com/g?sslmode=disable");
        assert_eq!(resolve(&s).unwrap().tls, TlsMode::Disable);
        s.pgsslmode = Some("verify-ca".into());
        assert_eq!(resolve(&s).unwrap().tls, TlsMode::VerifyCa);
        s.tls_env = Some("require".into());
        assert_eq!(resolve(&s).unwrap().tls, TlsMode::Require);
        s.tls_flag = Some("verify-full".into());
        assert_eq!(resolve(&s).unwrap().tls, TlsMode::VerifyFull);
    }

    #[test]
    fn prefer_never_falls_back_to_plain_tcp_towards_another_host() {
        let mut s = src("postgresql://a@db.example.com/g");
        s.pgsslmode = Some("prefer".into());
        assert_eq!(resolve(&s).unwrap().tls, TlsMode::Require);
        s.pgsslmode = Some("allow".into());
        assert_eq!(resolve(&s).unwrap().tls, TlsMode::Require);
    }

    #[test]
    fn bad_modes_are_named_with_their_source() {
        let mut s = src("postgresql://a@db.example.com/g");
        s.tls_env = Some("verify_full".into());
        let e = resolve(&s).err().unwrap();
        assert!(
            e.message.contains("VCF_PG_LOADER_TLS_MODE"),
            "{}",
            e.message
        );
    }

    #[test]
    fn password_variable_wins_and_never_reaches_the_label() {
        let mut s = src("postgresql://a:frompass@db.example.com/g");
        s.password_env = Some("fromsecrets".into());
        s.pgpassword = Some("frompgpass".into());
        let t = resolve(&s).unwrap();
        assert_eq!(t.config.get_password(), Some(&b"fromsecrets"[..]));
        assert!(!t.label.contains("pass") && !t.label.contains("secrets"));
        s.password_env = None;
        assert_eq!(
            resolve(&s).unwrap().config.get_password(),
            Some(&b"frompass"[..])
        );
    }

    #[test]
    fn pg_variables_fill_gaps() {
        let s = Sources {
            pghost: Some("db.internal".into()),
            pgport: Some("6543".into()),
            pguser: Some("loader".into()),
            pgdatabase: Some("cohort".into()),
            ..Default::default()
        };
        let t = resolve(&s).unwrap();
        assert_eq!(t.config.get_ports(), &[6543]);
        assert_eq!(t.config.get_user(), Some("loader"));
        assert_eq!(t.tls, TlsMode::VerifyFull);
        assert_eq!(t.label, "db.internal:6543/cohort");
    }
}
