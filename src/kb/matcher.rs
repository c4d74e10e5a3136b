//! Scores every catalogue article against a log's leak findings: which process leaks (with its
//! names in other Windows eras), which counters grow, what the log's objects corroborate, the
//! era the log implies, and by-design behaviour that argues against. Weak fits are dropped;
//! a fit is only `likely` when nothing else explains the same evidence about as well.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::analysis::{Finding, Verdict};
use crate::ingest::PerfLog;
use crate::vocab::Shape;

use super::eras::{Eras, LogSigns, LogVersions};
use super::weights::Weights;
use super::{
    counter_display, counter_key, Aliases, ArticleKind, ArticleMeta, Catalogue, KbArticle, KbMatch,
    MatchStrength,
};

/// Finding process names that stand for the whole machine rather than one process.
const SYSTEM_WIDE: [&str; 4] = ["", "_total", "memory", "system"];

/// One leaking process as the matcher sees it: counter key -> the strongest finding.
struct LeakingProcess<'a> {
    /// Image name as the log has it (without `#N`).
    name: String,
    counters: BTreeMap<&'static str, &'a Finding>,
    /// False for a process that runs in the log without growing itself, considered only for
    /// articles whose leak shows in the machine-wide pool counters.
    leaking: bool,
}

/// What the log says beyond the findings.
struct LogContext {
    /// Object names, `object\counter` paths and process instance names, lower case -> how
    /// evidence names them (the first one seen). Looked up by name: a wide log has tens of
    /// thousands of instances.
    present: HashMap<String, String>,
    /// Process images in the log, lower case.
    image_set: HashSet<String>,
    /// Windows versions the log's processes, objects, address space and header allow.
    versions: LogVersions,
    /// Versions whose servers were in service when the log was written; empty when undated.
    by_date: Vec<usize>,
    /// The year of the first sample.
    year: Option<i32>,
}

/// What the catalogue says of an article beyond its facts: its kind and Windows versions.
struct ArticleFacts {
    kind: ArticleKind,
    /// Indices into [`Eras::windows`].
    versions: Vec<usize>,
    /// Objects of the role the article is about (see [`ArticleMeta::requires`]).
    requires: Vec<String>,
}

/// A scored article before the report threshold and the rival check.
struct Candidate {
    found: KbMatch,
    /// The article's own process leaks, every counter it names grows, and the era does not
    /// argue against it.
    fits: bool,
    /// The log holds an object or service specific to the article.
    specific: bool,
    /// The leaking process hosts many components' code, so only specific corroboration can
    /// make the article the likely cause.
    host: bool,
    /// A troubleshooting guide: never the cause, and no rival to an article that may be.
    guide: bool,
}

/// Articles that fit the log's findings, best first; empty when nothing fits well.
pub fn match_findings(catalogue: &Catalogue, log: &PerfLog, findings: &[Finding]) -> Vec<KbMatch> {
    let aliases = Aliases::builtin();
    let (processes, system) = leaking_processes(findings);
    if processes.is_empty() && system.is_empty() {
        return Vec::new();
    }
    let context = log_context(log, findings);
    let by_design: Vec<&KbArticle> = catalogue.articles.iter().filter(|a| a.by_design).collect();
    let eras = Eras::builtin();

    let leaking_names: HashSet<&str> = processes.iter().map(|p| p.name.as_str()).collect();
    // (process name) -> candidate matches for that process.
    let mut per_process: BTreeMap<String, Vec<Candidate>> = BTreeMap::new();
    for article in catalogue.articles.iter().filter(|a| !a.by_design) {
        let meta: ArticleMeta = catalogue.meta_of(&article.id);
        let facts = ArticleFacts {
            kind: meta.kind,
            versions: eras.article_versions(article, &meta.windows),
            requires: meta.requires,
        };
        let score = |process: &LeakingProcess| {
            score(
                article, &facts, process, &system, &context, &by_design, aliases,
            )
        };
        for process in &processes {
            if let Some(m) = score(process) {
                per_process.entry(process.name.clone()).or_default().push(m);
            }
        }
        // A pool leak charged to a service shows machine-wide, not in the service's own
        // counters: the service only has to run.
        let pool_growth = article
            .counters
            .iter()
            .any(|c| c.starts_with("pool_") && system.contains_key(c.as_str()));
        if pool_growth {
            for name in &article.processes {
                let running = context.image_set.contains(name);
                let already = leaking_names.contains(name.as_str());
                if running && !already {
                    let quiet = LeakingProcess {
                        name: name.clone(),
                        counters: BTreeMap::new(),
                        leaking: false,
                    };
                    if let Some(m) = score(&quiet) {
                        per_process.entry(name.clone()).or_default().push(m);
                    }
                }
            }
        }
        // Kernel-pool articles without a process can fit the machine-wide pool counters alone.
        if article.processes.is_empty() && !system.is_empty() {
            let machine = LeakingProcess {
                name: String::new(),
                counters: BTreeMap::new(),
                leaking: false,
            };
            if let Some(m) = score(&machine) {
                per_process.entry(String::new()).or_default().push(m);
            }
        }
    }

    let mut chosen: Vec<KbMatch> = Vec::new();
    for (_, candidates) in per_process {
        let mut matches = judge_rivals(candidates);
        matches.sort_by(best_first);
        for m in matches
            .into_iter()
            .take(Weights::builtin().report.per_process)
        {
            match chosen.iter_mut().find(|c| c.id == m.id) {
                // One article explaining two leaking processes: keep the better reading and
                // name both processes.
                Some(existing) => {
                    for p in &m.processes {
                        if !existing.processes.contains(p) {
                            existing.processes.push(p.clone());
                        }
                    }
                    if (m.strength, -m.score) < (existing.strength, -existing.score) {
                        let processes = std::mem::take(&mut existing.processes);
                        *existing = KbMatch { processes, ..m };
                    }
                }
                None => chosen.push(m),
            }
        }
    }
    chosen.sort_by(best_first);
    chosen
}

/// Decides which candidates for one process are `likely`, then drops those below the
/// report threshold. A candidate without specific corroboration is only likely when every
/// other article for the process (reported or not) scores clearly lower: two articles tied
/// on the same evidence cannot both be the cause, and picking one would be a guess.
fn judge_rivals(candidates: Vec<Candidate>) -> Vec<KbMatch> {
    let w = Weights::builtin();
    // A guide is never the cause, so it is no rival to an article that may be.
    let scores: Vec<(String, f64, bool)> = candidates
        .iter()
        .filter(|c| !c.guide)
        .map(|c| (c.found.id.clone(), c.found.score, c.fits && c.specific))
        .collect();
    let mut out = Vec::new();
    for mut candidate in candidates {
        let rival = scores.iter().find(|(id, score, _)| {
            *id != candidate.found.id && *score >= candidate.found.score - w.report.rival_margin
        });
        // Specific corroboration makes an article likely, unless another fitting article with
        // corroboration of its own scores clearly higher.
        let outdone = scores.iter().find(|(id, score, backed)| {
            *backed
                && *id != candidate.found.id
                && *score > candidate.found.score + w.report.rival_margin
        });
        let likely = candidate.fits
            && outdone.is_none()
            && (candidate.specific || (rival.is_none() && !candidate.host));
        if candidate.fits && !likely && rival.is_none() && outdone.is_none() {
            candidate.found.evidence.push(format!(
                "{} runs code from many components; nothing in the log points to this one",
                candidate.found.processes.join(", ")
            ));
        }
        if let (true, false, Some((id, score, _))) = (candidate.fits, likely, rival.or(outdone)) {
            let sentence = if *score > candidate.found.score + w.report.rival_margin {
                format!("{id} fits this log better")
            } else {
                format!(
                    "{id} fits the same evidence about as well; the log does not tell them apart"
                )
            };
            candidate.found.evidence.push(sentence);
        }
        candidate.found.strength = if likely {
            MatchStrength::Likely
        } else {
            MatchStrength::Possible
        };
        if candidate.found.score >= w.report.threshold {
            out.push(candidate.found);
        }
    }
    out
}

/// Likely matches before possible ones, then by score.
fn best_first(a: &KbMatch, b: &KbMatch) -> std::cmp::Ordering {
    a.strength
        .cmp(&b.strength)
        .then_with(|| b.score.total_cmp(&a.score))
        .then_with(|| a.id.cmp(&b.id))
}

/// Stronger of two findings for one counter: leak before suspect, then confidence.
fn stronger<'a>(a: &'a Finding, b: &'a Finding) -> &'a Finding {
    let key = |f: &Finding| (f.verdict.rank(), f.confidence);
    if key(b) > key(a) {
        b
    } else {
        a
    }
}

fn image_name(process: &str) -> String {
    let lower = process.trim().to_ascii_lowercase();
    let without_index = match lower.rsplit_once('#') {
        Some((name, n)) if n.chars().all(|c| c.is_ascii_digit()) => name.to_string(),
        _ => lower,
    };
    without_index
        .strip_suffix(".exe")
        .unwrap_or(&without_index)
        .to_string()
}

/// Leaking processes (with their leaking counter keys) and the machine-wide leaking counters.
fn leaking_processes(
    findings: &[Finding],
) -> (Vec<LeakingProcess<'_>>, BTreeMap<&'static str, &Finding>) {
    let mut processes: Vec<LeakingProcess> = Vec::new();
    // Image name -> its place in `processes`, which keeps first-seen order.
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut system: BTreeMap<&'static str, &Finding> = BTreeMap::new();
    for finding in findings.iter().filter(|f| f.verdict.is_flagged()) {
        let Some(key) = counter_key(&finding.counter) else {
            continue;
        };
        let name = image_name(&finding.process);
        let machine_wide = finding.system.is_some() || SYSTEM_WIDE.contains(&name.as_str());
        // Of the machine-wide series, the pools are what articles describe (a pool leak charged
        // to a driver or a service); the machine's commit, memory left and handles of all
        // processes are each process's leak seen from afar.
        if finding.system.is_some() && !key.starts_with("pool_") {
            continue;
        }
        let slot = if machine_wide {
            &mut system
        } else {
            match index.get(&name) {
                Some(&i) => &mut processes[i].counters,
                None => {
                    index.insert(name.clone(), processes.len());
                    processes.push(LeakingProcess {
                        name,
                        counters: BTreeMap::new(),
                        leaking: true,
                    });
                    let last = processes.len() - 1;
                    &mut processes[last].counters
                }
            }
        };
        let best = match slot.get(key) {
            Some(existing) => stronger(existing, finding),
            None => finding,
        };
        slot.insert(key, best);
    }
    (processes, system)
}

fn log_context(log: &PerfLog, findings: &[Finding]) -> LogContext {
    let objects = log.objects();
    let mut images: Vec<String> = Vec::new();
    let mut image_set: HashSet<String> = HashSet::new();
    let mut present: HashMap<String, String> = HashMap::new();
    for object in &objects {
        present
            .entry(object.to_ascii_lowercase())
            .or_insert_with(|| format!("object '{object}'"));
    }
    for path in &log.all_paths {
        // An article may name a counter of an object (`Server\Pool Paged Bytes`).
        if !path.is_process() {
            let full = format!("{}\\{}", path.object, path.counter);
            present
                .entry(full.to_ascii_lowercase())
                .or_insert_with(|| format!("counter '{full}'"));
        }
        // A Process V2 instance `name:pid` stands for its image `name`.
        if let Some(instance) = path.process_name().filter(|_| path.is_process()) {
            let lower = instance.to_ascii_lowercase();
            let image = image_name(&lower);
            if image_set.insert(image.clone()) {
                images.push(image);
            }
            present
                .entry(lower)
                .or_insert_with(|| format!("process '{instance}'"));
        }
    }
    // A process's address space past 4 GB: 64-bit Windows.
    let x64 = findings.iter().any(|f| {
        f.system.is_none()
            && f.counter.eq_ignore_ascii_case("Virtual Bytes")
            && [f.first, f.last].into_iter().flatten().any(|v| v > 4.3e9)
    });
    let eras = Eras::builtin();
    let versions = eras.log_versions(&LogSigns {
        images: &images,
        objects: &objects,
        x64,
        build: log
            .source
            .blg
            .as_ref()
            .map(|b| b.os_build)
            .filter(|b| *b > 0),
    });
    // The first sample dates the log; a multi-year log is not a case to worry about.
    let year = log.timestamps.first().map(chrono::Datelike::year);
    let by_date = year.map(|y| eras.in_year(y)).unwrap_or_default();
    LogContext {
        present,
        image_set,
        versions,
        by_date,
        year,
    }
}

fn finding_sentence(process: &str, key: &str, finding: &Finding) -> String {
    let label = if process.is_empty() {
        "machine-wide".to_string()
    } else {
        process.to_string()
    };
    let mut sentence = format!(
        "{label} {}: {}",
        counter_display(key),
        finding.verdict.as_str()
    );
    // The rate as the report's table writes it (`+41.7 handles/h`, `+61.5 KB/h`).
    if finding.slope_per_hour.is_some_and(f64::is_finite) {
        let rate = crate::format::rate(finding.slope_per_hour, &finding.unit);
        sentence.push_str(&format!(", {rate}"));
    }
    sentence
}

/// A score being built: the running total and what was said for and against the article. The
/// terms below add to it in a fixed order (the sum is rounded, so the order is kept exact).
struct Tally {
    total: f64,
    evidence: Vec<String>,
    against: Vec<String>,
}

/// How the article names the process.
struct ProcessFit {
    exact: bool,
    /// The article's name for the process in another Windows version.
    alias: Option<String>,
    /// The article names no process (whichever process calls the API).
    generic: bool,
}

/// A counter the article names that grows here: its key, the finding, and whether it is a
/// machine-wide counter rather than the process's own.
type Matched<'a> = (&'static str, &'a Finding, bool);

/// Scores one article against one leaking process; `None` when it cannot apply.
fn score(
    article: &KbArticle,
    facts: &ArticleFacts,
    process: &LeakingProcess,
    system: &BTreeMap<&'static str, &Finding>,
    context: &LogContext,
    by_design: &[&KbArticle],
    aliases: &Aliases,
) -> Option<Candidate> {
    let mut tally = Tally {
        total: 0.0,
        evidence: Vec::new(),
        against: Vec::new(),
    };
    let fit = process_term(article, process, aliases, &mut tally)?;
    let matched = counter_term(article, process, system, &mut tally)?;
    let specific = corroboration_term(article, context, aliases, fit.generic, &mut tally)?;
    let era_conflict = era_term(facts, context, &mut tally);
    by_design_term(by_design, process, &matched, &mut tally);
    let levels_off = shape_term(&matched, &mut tally);
    let factor = confidence_factor(&matched);
    let final_score = ((tally.total * factor).clamp(0.0, 1.0) * 100.0).round() / 100.0;
    let fits = process.leaking
        && (fit.exact || fit.alias.is_some())
        && matched.len() == article.counters.len()
        && matched.iter().all(|(_, _, machine_wide)| !machine_wide)
        && !levels_off
        && !era_conflict;
    let role_missing = !facts.requires.is_empty()
        && !facts
            .requires
            .iter()
            .any(|r| context.present.contains_key(&r.to_ascii_lowercase()));
    if role_missing {
        tally.against.push(format!(
            "the article is about servers with {}; this log shows none",
            facts.requires.join(" or ")
        ));
    }
    let guide = facts.kind == ArticleKind::Guide;
    if guide {
        tally.against.push(
            "a troubleshooting guide: it shows how to find the cause, it names none".to_string(),
        );
    }
    let mut evidence = tally.evidence;
    evidence.extend(tally.against);
    if !article.conditions.is_empty() {
        let shown: Vec<&str> = article
            .conditions
            .iter()
            .take(3)
            .map(String::as_str)
            .collect();
        evidence.push(format!("check: {}", shown.join("; ")));
    }
    let processes = if process.name.is_empty() {
        Vec::new()
    } else {
        vec![process.name.clone()]
    };
    Some(Candidate {
        found: KbMatch {
            id: article.id.clone(),
            title: article.title.clone(),
            score: final_score,
            processes,
            evidence,
            fix: article.fix.clone(),
            strength: MatchStrength::Possible,
            kind: facts.kind,
            windows: facts
                .versions
                .iter()
                .map(|&i| Eras::builtin().windows[i].name.clone())
                .collect(),
        },
        fits: fits && !guide && !role_missing,
        specific: specific > 0,
        host: aliases.is_host_image(&process.name),
        guide,
    })
}

/// The base score from how the article names the process: by its own name (less when the
/// process runs without growing itself), by its name in another era, or not at all (generic).
fn process_term(
    article: &KbArticle,
    process: &LeakingProcess,
    aliases: &Aliases,
    tally: &mut Tally,
) -> Option<ProcessFit> {
    let w = &Weights::builtin().process;
    let generic = article.processes.is_empty();
    let exact = article
        .processes
        .iter()
        .any(|p| p.eq_ignore_ascii_case(&process.name));
    let alias = if exact || generic {
        None
    } else {
        let others = aliases.aliases_of(&process.name);
        article
            .processes
            .iter()
            .find(|p| others.iter().any(|o| o.eq_ignore_ascii_case(p)))
            .cloned()
    };
    tally.total = match (exact, &alias, generic) {
        (true, _, _) if !process.leaking => {
            tally.evidence.push(format!(
                "{} runs in the log; its own counters do not grow",
                process.name
            ));
            w.own_name_not_growing
        }
        (true, _, _) => w.own_name,
        (false, Some(_), _) => w.alias,
        // A kernel pool article (a driver's leak) against the machine's own pool counters:
        // the counter is the article's own, as a process's is for a process article.
        (false, None, true) if process.name.is_empty() && kernel_pool(article) => {
            tally
                .evidence
                .push("a kernel pool article: the machine-wide pool is its own counter".into());
            w.kernel
        }
        (false, None, true) => w.generic,
        (false, None, false) => return None,
    };
    if let Some(name) = &alias {
        tally.evidence.push(format!(
            "the article names {name}, the same component as {} in another Windows version",
            process.name
        ));
    }
    Some(ProcessFit {
        exact,
        alias,
        generic,
    })
}

/// An article about a driver's pool leak: it names no process and only pool counters.
fn kernel_pool(article: &KbArticle) -> bool {
    article.processes.is_empty()
        && !article.counters.is_empty()
        && article.counters.iter().all(|c| c.starts_with("pool_"))
}

/// Counters: the article's against what leaks here (the process's own, plus machine-wide pool
/// counters, which most pool articles mean). Share of the article's counters that grow, a bonus
/// when nothing else grows, a penalty per counter the article does not describe. `None` when
/// none of the article's counters grows.
fn counter_term<'a>(
    article: &KbArticle,
    process: &LeakingProcess<'a>,
    system: &BTreeMap<&'static str, &'a Finding>,
    tally: &mut Tally,
) -> Option<Vec<Matched<'a>>> {
    let w = &Weights::builtin().counters;
    let mut matched: Vec<Matched<'a>> = Vec::new();
    for key in &article.counters {
        if let Some((k, f)) = process.counters.get_key_value(key.as_str()) {
            matched.push((*k, *f, false));
        } else if let Some((k, f)) = system.get_key_value(key.as_str()) {
            matched.push((*k, *f, true));
        }
    }
    if matched.is_empty() {
        return None;
    }
    let coverage = matched.len() as f64 / article.counters.len().max(1) as f64;
    tally.total += w.coverage * coverage;
    for (key, finding, machine_wide) in &matched {
        let who = if *machine_wide {
            ""
        } else {
            process.name.as_str()
        };
        tally.evidence.push(finding_sentence(who, key, finding));
    }
    for key in &article.counters {
        if !matched.iter().any(|(k, _, _)| k == key) {
            tally.against.push(format!(
                "the article expects {} to grow as well; it does not in this log",
                counter_display(key)
            ));
        }
    }
    let extra: Vec<&str> = process
        .counters
        .keys()
        .copied()
        .filter(|k| !article.counters.iter().any(|c| c == k))
        .collect();
    if extra.is_empty() {
        tally.total += w.nothing_else_grows;
    } else {
        tally.total -= (w.per_extra * extra.len() as f64).min(w.extra_max);
        let names: Vec<&str> = extra.iter().map(|k| counter_display(k)).collect();
        tally.against.push(format!(
            "{} {} also grows; the article does not describe that",
            process.name,
            names.join(" and ")
        ));
    }
    Some(matched)
}

/// Objects or services in the log that the article ties to the leak: specific ones weigh,
/// ones on any server of the kind barely. Returns how many specific ones were found; `None`
/// for a generic article without one (a leak in "whichever process calls the API" fits any
/// leaking process: without a specific sign in the log it is a guess).
fn corroboration_term(
    article: &KbArticle,
    context: &LogContext,
    aliases: &Aliases,
    generic: bool,
    tally: &mut Tally,
) -> Option<usize> {
    let w = &Weights::builtin().corroboration;
    let mut specific = 0usize;
    let mut common = 0usize;
    for wanted in &article.corroborating_objects {
        let lower = wanted.to_ascii_lowercase();
        if let Some(label) = context.present.get(&lower) {
            if aliases.is_weak_object(wanted) {
                common += 1;
            } else {
                specific += 1;
                tally.evidence.push(format!("{label} present in the log"));
            }
        }
    }
    if generic && specific == 0 {
        return None;
    }
    if specific > 0 {
        tally.total +=
            (w.first_specific + w.per_more_specific * (specific as f64 - 1.0)).min(w.specific_max);
        return Some(specific);
    }
    let wanted: Vec<&str> = article
        .corroborating_objects
        .iter()
        .filter(|o| !aliases.is_weak_object(o))
        .map(String::as_str)
        .collect();
    if !wanted.is_empty() {
        // Logs often leave such objects out, so their absence weighs little.
        tally.total -= w.specific_absent;
        tally
            .against
            .push(format!("no sign in the log of {}", wanted.join(", ")));
    }
    if common > 0 {
        // On every server of the product: consistent with the article, proves nothing.
        tally.total += w.weak_present;
        let weak: Vec<&str> = article
            .corroborating_objects
            .iter()
            .filter(|o| aliases.is_weak_object(o))
            .filter(|o| {
                let lower = o.to_ascii_lowercase();
                context.present.contains_key(&lower)
            })
            .map(String::as_str)
            .collect();
        tally.evidence.push(format!(
            "{} present, as on any server of the kind (weak evidence)",
            weak.join(", ")
        ));
    }
    Some(specific)
}

/// Era: an NT 4.0 article rarely explains a Windows Server 2019 log, and vice versa. The log's
/// processes, objects, address space and BLG header weigh more than its clock; both rule a
/// version out. Says why either way; returns whether the era argues against the article.
fn era_term(facts: &ArticleFacts, context: &LogContext, tally: &mut Tally) -> bool {
    let w = &Weights::builtin().era;
    let eras = Eras::builtin();
    let article = eras.describe(&facts.versions);
    let overlaps = |log: &[usize]| facts.versions.iter().any(|v| log.contains(v));
    let mut era_conflict = false;
    let seen = &context.versions;
    if !seen.versions.is_empty() {
        let log = eras.describe(&seen.versions);
        let signs = seen.signs.join(", ");
        if overlaps(&seen.versions) {
            tally.total += w.agrees;
            tally.evidence.push(format!(
                "era fits: the article is for {article}; the log shows {log} ({signs})"
            ));
        } else {
            era_conflict = true;
            tally.total -= w.by_markers;
            tally.against.push(format!(
                "set aside by era: the article is for {article}; the log's processes and objects look {log} ({signs})"
            ));
        }
    }
    if !context.by_date.is_empty() && !overlaps(&context.by_date) {
        era_conflict = true;
        tally.total -= w.by_date;
        let year = context.year.map(|y| format!(" in {y}")).unwrap_or_default();
        tally.against.push(format!(
            "set aside by date: the article is for {article}, unlikely to be in service when this log was written{year}"
        ));
    }
    era_conflict
}

/// Expected behaviour of the same process that explains every matched counter argues
/// against a leak.
fn by_design_term(
    by_design: &[&KbArticle],
    process: &LeakingProcess,
    matched: &[Matched],
    tally: &mut Tally,
) {
    for design in by_design {
        let same_process = design
            .processes
            .iter()
            .any(|p| p.eq_ignore_ascii_case(&process.name));
        let all_explained = matched
            .iter()
            .all(|(k, _, _)| design.counters.iter().any(|c| c == k));
        if same_process && all_explained {
            tally.total -= Weights::builtin().against.by_design;
            tally
                .against
                .push(format!("by design: {} ({})", design.title, design.id));
        }
    }
}

/// Shapes the analysis called leaks but that look like filling caches weaken the fit. Returns
/// whether every matched counter levels off.
fn shape_term(matched: &[Matched], tally: &mut Tally) -> bool {
    let soft_shapes = [
        Shape::WarmUp,
        Shape::GrowthStopped,
        Shape::LevelShift,
        Shape::Cyclic,
        Shape::Burst,
    ];
    let levels_off = matched
        .iter()
        .all(|(_, f, _)| soft_shapes.contains(&f.shape));
    if levels_off {
        tally.total -= Weights::builtin().against.levels_off;
        tally
            .against
            .push("the growth levels off rather than climbing steadily".to_string());
    }
    levels_off
}

/// How sure the analysis is scales the fit: base + per_confidence x the mean confidence (see
/// `[confidence]` in data/kb/weights.toml), less for suspects only.
fn confidence_factor(matched: &[Matched]) -> f64 {
    let confidence = matched
        .iter()
        .map(|(_, f, _)| f.confidence.clamp(0.0, 1.0))
        .sum::<f64>()
        / matched.len() as f64;
    let all_suspect = matched
        .iter()
        .all(|(_, f, _)| f.verdict == Verdict::Suspect);
    let w = &Weights::builtin().confidence;
    let mut factor = w.base + w.per_confidence * confidence;
    if all_suspect {
        factor *= w.all_suspect;
    }
    factor
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_lose_index_and_extension() {
        assert_eq!(image_name("svchost#3"), "svchost");
        assert_eq!(image_name("WINLOGON.EXE"), "winlogon");
        assert_eq!(image_name("Clash for Windows"), "clash for windows");
    }

    fn tally() -> Tally {
        Tally {
            total: 1.0,
            evidence: Vec::new(),
            against: Vec::new(),
        }
    }

    #[test]
    fn levelling_shapes_and_doubt_lower_the_score() {
        let leak = Finding {
            verdict: Verdict::Leak,
            confidence: 1.0,
            shape: Shape::Linear,
            ..Finding::default()
        };
        let warm = Finding {
            verdict: Verdict::Suspect,
            confidence: 0.6,
            shape: Shape::WarmUp,
            ..Finding::default()
        };
        let mut t = tally();
        assert!(!shape_term(
            &[("handles", &leak, false), ("private", &warm, false)],
            &mut t
        ));
        assert_eq!(t.total, 1.0);
        assert!(shape_term(&[("private", &warm, false)], &mut t));
        assert!((t.total - 0.9).abs() < 1e-12);
        assert_eq!(t.against.len(), 1);
        assert_eq!(confidence_factor(&[("handles", &leak, false)]), 1.0);
        assert!((confidence_factor(&[("private", &warm, false)]) - 0.9 * 0.85).abs() < 1e-12);
    }
}
