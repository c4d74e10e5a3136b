//! `perfleak kb list|show|import`: the knowledge base in use (built in plus `--kb`), and
//! turning KB article texts into catalogue entries.

use std::io::Write;
use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, Subcommand};
use perfleak::kb::{import, ArticleKind, Catalogue, KbArticle};
use perfleak::report;

#[derive(Debug, Args)]
pub struct KbArgs {
    /// More KB articles: a catalogue (.toml) or a folder of KB article texts.
    #[arg(long, global = true)]
    pub kb: Vec<PathBuf>,
    #[command(subcommand)]
    pub command: KbCommand,
}

#[derive(Debug, Subcommand)]
pub enum KbCommand {
    /// List the articles in use.
    List,
    /// Show one article.
    Show { id: String },
    /// Turn KB article texts (files or folders of .txt and .md) into catalogue entries.
    Import {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print a JSON array instead of catalogue TOML.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: &KbArgs) -> anyhow::Result<i32> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match &args.command {
        KbCommand::List => {
            let catalogue = with_extra(&args.kb)?;
            write_list(&mut out, &catalogue)?;
        }
        KbCommand::Show { id } => {
            let catalogue = with_extra(&args.kb)?;
            let Some(article) = catalogue.get(id) else {
                bail!("no article '{id}' in the knowledge base (see `perfleak kb list`)");
            };
            write_article(&mut out, &catalogue, article)?;
        }
        KbCommand::Import { paths, json } => {
            let imported = import::import_paths(paths)?;
            for origin in &imported.passed_over {
                eprintln!(
                    "perfleak: {}: not a KB article text, skipped",
                    report::escape_terminal(origin)
                );
            }
            if *json {
                // Each entry with the facts beside it (kind, eras, system, fix releases).
                serde_json::to_writer_pretty(&mut out, &imported.entries())?;
                writeln!(out)?;
            } else {
                out.write_all(imported.to_catalogue_toml()?.as_bytes())?;
            }
            eprintln!(
                "perfleak: {} leak article(s) imported",
                imported.articles.len()
            );
        }
    }
    out.flush()?;
    Ok(0)
}

/// The catalogue in use, its notes (texts passed over) said on stderr.
pub fn with_extra(paths: &[std::path::PathBuf]) -> anyhow::Result<Catalogue> {
    let catalogue = Catalogue::with_extra(paths)?;
    for note in &catalogue.notes {
        eprintln!("perfleak: {}", report::escape_terminal(note));
    }
    Ok(catalogue)
}

fn write_list(out: &mut impl Write, catalogue: &Catalogue) -> anyhow::Result<()> {
    writeln!(
        out,
        "{:<10} {:<5} {:<18} {:<22} {:<28} TITLE",
        "ID", "KIND", "WINDOWS", "PROCESSES", "COUNTERS"
    )?;
    for a in &catalogue.articles {
        let processes = if a.processes.is_empty() {
            "(any caller)".to_string()
        } else {
            a.processes.join(",")
        };
        let mut title = a.title.clone();
        if a.by_design {
            title.push_str(" [by design]");
        }
        // A slug id (an article without a KB number) gets a line of its own.
        let id = if a.id.chars().count() > 10 {
            writeln!(out, "{}", a.id)?;
            ""
        } else {
            a.id.as_str()
        };
        writeln!(
            out,
            "{:<10} {:<5} {:<18} {:<22} {:<28} {}",
            id,
            catalogue.meta_of(&a.id).kind.as_str(),
            catalogue.windows_of(a).short,
            processes,
            a.counters.join(","),
            title
        )?;
    }
    writeln!(out, "{} articles", catalogue.articles.len())?;
    Ok(())
}

fn write_article(out: &mut impl Write, catalogue: &Catalogue, a: &KbArticle) -> anyhow::Result<()> {
    let list = |items: &[String]| {
        if items.is_empty() {
            "-".to_string()
        } else {
            items.join(", ")
        }
    };
    writeln!(out, "{}: {}", a.id, a.title)?;
    let meta = catalogue.meta_of(&a.id);
    let kind = match meta.kind {
        ArticleKind::Bug => "bug (one cause, one fix)",
        ArticleKind::Guide => "guide (worth reading, never named as the cause)",
    };
    writeln!(out, "  kind:        {kind}")?;
    let windows = catalogue.windows_of(a);
    // Without `windows` in its entry, the matcher dates an article by its products, versions
    // and title (or as undated): say so, since that is a guess.
    let whence = if windows.from_entry {
        ""
    } else {
        " (dated by its words)"
    };
    writeln!(out, "  windows:     {}{whence}", windows.full)?;
    if !meta.requires.is_empty() {
        writeln!(
            out,
            "  requires:    {} (without it in the log, at most possible)",
            meta.requires.join(", ")
        )?;
    }
    writeln!(out, "  products:    {}", list(&a.products))?;
    writeln!(out, "  versions:    {}", list(&a.versions))?;
    let processes = if a.processes.is_empty() {
        "(whichever process calls the faulty code)".to_string()
    } else {
        a.processes.join(", ")
    };
    writeln!(out, "  processes:   {processes}")?;
    writeln!(out, "  counters:    {}", list(&a.counters))?;
    writeln!(out, "  objects:     {}", list(&a.corroborating_objects))?;
    writeln!(out, "  conditions:")?;
    for c in &a.conditions {
        writeln!(out, "    - {c}")?;
    }
    writeln!(
        out,
        "  fix:         {}",
        if a.fix.is_empty() { "-" } else { &a.fix }
    )?;
    if a.by_design {
        writeln!(
            out,
            "  by design:   yes (growth is expected behaviour, not a leak)"
        )?;
    }
    writeln!(out, "  source:      {}", a.source)?;
    Ok(())
}
