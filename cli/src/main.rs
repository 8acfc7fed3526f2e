//! `vcf-pg-loader`: vcf_pg_loader from a client, for managed PostgreSQL (RDS, Aurora, Cloud SQL,
//! Azure) where the extension cannot be loaded (CONTRACT §10, docs/cli.md). Everything is
//! done on the same pure core as the extension; sample names are sealed here, so the server
//! never sees them.

mod audit;
mod conn;
mod error;
mod initdb;
mod keys;
mod load;
mod phi;
mod progress;
mod security;
mod tls;

use clap::{Args, Parser, Subcommand};
use error::{CliError, Result};
use std::io::{IsTerminal, Read};
use uuid::Uuid;
use vcf_pg_loader_core::vcf::GenotypeMode;

#[derive(Parser)]
#[command(name = "vcf-pg-loader", version, about = "Load VCF files into PostgreSQL with sample names sealed (AES-256-GCM) on the client", long_about = None)]
struct Cli {
    #[command(flatten)]
    db: DbArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct DbArgs {
    /// Connection URL or key=value string (else POSTGRES_URL, else libpq's PG* variables)
    #[arg(long, global = true, value_name = "URL")]
    db: Option<String>,
    /// disable | require | verify-ca | verify-full (else VCF_PG_LOADER_TLS_MODE, PGSSLMODE, the URL's sslmode; default verify-full for a non-loopback host)
    #[arg(long, global = true, value_name = "MODE")]
    tls_mode: Option<String>,
    /// CA bundle (PEM) to verify the server against (else VCF_PG_LOADER_TLS_CA_CERT, PGSSLROOTCERT)
    #[arg(long, global = true, value_name = "FILE")]
    tls_ca_cert: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Install the vcf and phi_vault schema on a server without the extension
    InitDb,
    /// Load a VCF (.vcf, .vcf.gz: plain, gzip or BGZF) in one transaction
    Load {
        file: String,
        /// all | carriers | none
        #[arg(long, default_value = "all")]
        genotypes: String,
        /// Replace an earlier load of the same content (your own)
        #[arg(long)]
        force: bool,
        /// Keep REF/ALT as written (no trimming of shared bases)
        #[arg(long)]
        no_normalize: bool,
        /// No progress bar, even on a terminal
        #[arg(long)]
        no_progress: bool,
        /// Write the result as JSON to this file
        #[arg(long, value_name = "FILE.json")]
        report: Option<String>,
    },
    /// Keys and encryption status
    #[command(subcommand)]
    Security(SecurityCommand),
    /// Reveal and look up sample identifiers (phi_admin; audited)
    #[command(subcommand)]
    Phi(PhiCommand),
}

#[derive(Subcommand)]
enum SecurityCommand {
    /// Make a new 256-bit key
    GenerateKey {
        /// Create this file (mode 0600; never overwritten)
        #[arg(long, value_name = "FILE")]
        output: Option<String>,
        /// Print only the base64 key
        #[arg(long)]
        raw: bool,
    },
    /// Show the encryption status and the database's encrypted / unencrypted counts
    CheckEncryption,
    /// Re-encrypt every mapping row under a new key, in batches
    RotateKey {
        /// The new key (base64); prefer --new-key-file
        #[arg(long, value_name = "KEY")]
        new_key: Option<String>,
        /// A key file whose first key is the new key
        #[arg(long, value_name = "FILE")]
        new_key_file: Option<String>,
        #[arg(long, default_value_t = 1000)]
        batch_size: i32,
    },
}

#[derive(Subcommand)]
enum PhiCommand {
    /// The sample name behind a pseudonym
    Reveal {
        anonymous_id: Uuid,
        #[arg(long)]
        reason: String,
    },
    /// The pseudonyms of a sample name ("-" reads the name from standard input)
    Lookup { name: String },
}

/// Exit statuses besides 0 (done) and 1 (error); 2 is a usage error (clap's).
const EXIT_NOT_FOUND: i32 = 3;
const EXIT_CHECK: i32 = 4;
const EXIT_ROTATION_INCOMPLETE: i32 = 5;

fn main() {
    // A closed pipe (`check-encryption | head`) ends the process quietly, as for other tools.
    // SAFETY: restoring the default disposition of one signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("vcf-pg-loader: {e}");
            std::process::exit(e.exit);
        }
    }
}

fn connect(db: &DbArgs) -> Result<(postgres::Client, conn::Target)> {
    conn::open(db.db.clone(), db.tls_mode.clone(), db.tls_ca_cert.clone())
}

fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::InitDb => {
            let (mut c, t) = connect(&cli.db)?;
            match initdb::run(&mut c)? {
                initdb::Outcome::ExtensionPresent(v) => println!(
                    "{}: the vcf_pg_loader extension {v} is installed here; its schema is in place and nothing was changed",
                    t.label
                ),
                initdb::Outcome::AlreadyInstalled => println!(
                    "{}: the vcf_pg_loader schema is already installed; its client API is now that of {}",
                    t.label,
                    env!("CARGO_PKG_VERSION")
                ),
                initdb::Outcome::Installed => {
                    println!("{}: installed the vcf_pg_loader schema {}", t.label, env!("CARGO_PKG_VERSION"));
                    println!("{}", initdb::GRANTS);
                }
            }
            Ok(0)
        }
        Command::Load {
            file,
            genotypes,
            force,
            no_normalize,
            no_progress,
            report,
        } => {
            let mode = GenotypeMode::parse(&genotypes).ok_or_else(|| {
                CliError::new(format!("invalid value for --genotypes: \"{genotypes}\""))
                    .hint("Use 'all' (every sample), 'carriers' (calls holding the row's ALT) or 'none' (sites only).")
            })?;
            let keys = keys::require()?;
            let (mut c, _) = connect(&cli.db)?;
            let opts = load::Options {
                genotypes: mode,
                genotypes_text: genotypes,
                force,
                normalize: !no_normalize,
                progress: !no_progress,
            };
            let r = load::run(&mut c, &keys, &file, &opts)?;
            let verb = if r.already_loaded {
                "already loaded"
            } else {
                "loaded"
            };
            // The path as stored: sample names in it replaced by pseudonyms.
            let shown = &r.source_file;
            println!(
                "{shown}: {verb}: load_batch_id {} — {} records, {} variants, {} genotypes, {} samples in {:.1} s",
                r.load_batch_id, r.records, r.variants, r.genotypes, r.samples, r.seconds
            );
            if let Some(path) = report {
                let text = serde_json::to_string_pretty(&r.to_json(shown)).unwrap_or_default();
                std::fs::write(&path, text + "\n").map_err(|e| {
                    CliError::new(format!("could not write report \"{path}\": {e}"))
                })?;
            }
            Ok(0)
        }
        Command::Security(SecurityCommand::GenerateKey { output, raw }) => {
            if let Some(key) = security::generate_key(output.as_deref(), raw)? {
                println!("{}", key.as_str());
            }
            Ok(0)
        }
        Command::Security(SecurityCommand::CheckEncryption) => {
            let keys = keys::from_env()?;
            let (mut c, t) = connect(&cli.db)?;
            let label = format!("{} (TLS mode {})", t.label, t.tls.as_str());
            let ok = security::check_encryption(&mut c, keys.as_ref(), &label)?;
            Ok(if ok { 0 } else { EXIT_CHECK })
        }
        Command::Security(SecurityCommand::RotateKey {
            new_key,
            new_key_file,
            batch_size,
        }) => {
            if batch_size < 1 {
                return Err(CliError::new("--batch-size must be at least 1"));
            }
            let new = security::new_key(new_key.as_deref(), new_key_file.as_deref())?;
            let current = keys::require()?;
            let (mut c, _) = connect(&cli.db)?;
            let r = security::rotate_key(&mut c, &current.keyring, &new, batch_size)?;
            let active = new.active_key_id();
            println!(
                "rotate-key: {} mapping rows re-encrypted under key {active}",
                r.rows
            );
            for (id, why) in &r.unopened {
                eprintln!("rotate-key: mapping row {id} left as it is: {why}");
            }
            if !r.unopened.is_empty() {
                eprintln!("rotate-key: {} row(s) could not be opened with the current keyring: add the key they name (after the active key) and run rotate-key again", r.unopened.len());
            }
            // No last locking pass from a client: rows locked by others, or sealed meanwhile by
            // a load with an old keyring, are counted and left for a rerun.
            let left = security::left_under_other_keys(&mut c, &active.to_string())?
                - r.unopened.len() as i64;
            if left > 0 {
                eprintln!("rotate-key: {left} row(s) still under other keys (locked by another transaction, or written by a load whose keyring has an old active key): run rotate-key again");
            }
            if !r.unopened.is_empty() || left > 0 {
                return Ok(EXIT_ROTATION_INCOMPLETE);
            }
            println!("next: make {active} the first (active) key of every keyring, then retire old keys once check-encryption shows no rows under them");
            Ok(0)
        }
        Command::Phi(PhiCommand::Reveal {
            anonymous_id,
            reason,
        }) => {
            let keys = keys::require()?;
            let (mut c, _) = connect(&cli.db)?;
            let name = phi::reveal(&mut c, &keys.keyring, anonymous_id, &reason)?;
            println!("{}", name.as_str());
            Ok(0)
        }
        Command::Phi(PhiCommand::Lookup { name }) => {
            let name = if name == "-" {
                read_name()?
            } else {
                zeroize::Zeroizing::new(name)
            };
            let keys = keys::require()?;
            let (mut c, _) = connect(&cli.db)?;
            let ids = phi::lookup(&mut c, &keys.keyring, &name)?;
            for id in &ids {
                println!("{id}");
            }
            Ok(if ids.is_empty() { EXIT_NOT_FOUND } else { 0 })
        }
    }
}

/// One name from standard input (not in argv, so not in `ps` or shell history).
fn read_name() -> Result<zeroize::Zeroizing<String>> {
    if std::io::stdin().is_terminal() {
        eprint!("sample name: ");
    }
    let mut s = zeroize::Zeroizing::new(String::new());
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| CliError::new(format!("reading the name from standard input: {e}")))?;
    let trimmed = zeroize::Zeroizing::new(s.trim_end_matches(['\n', '\r']).to_string());
    Ok(trimmed)
}
