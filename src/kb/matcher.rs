//! Scores every catalogue article against a log's leak findings: which process leaks (with its
//! names in other Windows eras), which counters grow, what the log's objects corroborate, the
//! era the log implies, and by-design behaviour that argues against. Weak fits are dropped.

use std::collections::BTreeMap;

use crate::analysis::{Finding, Verdict};
use crate::ingest::PerfLog;

use super::{counter_display, counter_key, Aliases, Catalogue, KbArticle, KbMatch};

/// Matches below this score are not reported: no match is better than a wrong one.
const REPORT_THRESHOLD: f64 = 0.6;
/// At most this many articles per leaking process.
const PER_PROCESS: usize = 3;

/// Objects present in almost every log, or named so broadly that their presence proves nothing.
const GENERIC_OBJECTS: [&str; 12] = [
    "Memory",
    "Objects",
    "Server",
    "Process",
    "System",
    "IP",
    "TCP",
    "UDP",
    "Network Interface",
    "Thread",
    "Processor",
    "Paging File",
];

/// Finding process names that stand for the whole machine rather than one process.
const SYSTEM_WIDE: [&str; 4] = ["", "_total", "memory", "system"];

/// One leaking process as the matcher sees it: counter key -> the strongest finding.
struct LeakingProcess<'a> {
    /// Image name as the log has it (without `#N`).
    name: String,
    counters: BTreeMap<&'static str, &'a Finding>,
}

/// What the log says beyond the findings.
struct LogContext {
    /// Object names and process instance names, lower case.
    present: Vec<(String, String)>,
    eras: Vec<String>,
}

/// Articles that fit the log's findings, best first; empty when nothing fits well.
pub fn match_findings(catalogue: &Catalogue, log: &PerfLog, findings: &[Finding]) -> Vec<KbMatch> {
    let aliases = Aliases::builtin();
    let (processes, system) = leaking_processes(findings);
    if processes.is_empty() && system.is_empty() {
        return Vec::new();
    }
    let context = log_context(log, aliases);
    let by_design: Vec<&KbArticle> = catalogue.articles.iter().filter(|a| a.by_design).collect();

    // (process name) -> candidate matches for that process.
    let mut per_process: BTreeMap<String, Vec<KbMatch>> = BTreeMap::new();
    for article in catalogue.articles.iter().filter(|a| !a.by_design) {
        for process in &processes {
            if let Some(m) = score(article, process, &system, &context, &by_design, aliases) {
                per_process.entry(process.name.clone()).or_default().push(m);
            }
        }
        // Kernel-pool articles without a process can fit the machine-wide pool counters alone.
        if article.processes.is_empty() && !system.is_empty() {
            let machine = LeakingProcess {
                name: String::new(),
                counters: BTreeMap::new(),
            };
            if let Some(m) = score(article, &machine, &system, &context, &by_design, aliases) {
                per_process.entry(String::new()).or_default().push(m);
            }
        }
    }

    let mut chosen: Vec<KbMatch> = Vec::new();
    for (_, mut matches) in per_process {
        matches.sort_by(best_first);
        for m in matches.into_iter().take(PER_PROCESS) {
            match chosen.iter_mut().find(|c| c.id == m.id) {
                // One article explaining two leaking processes: keep the better reading and
                // name both processes.
                Some(existing) => {
                    for p in &m.processes {
                        if !existing.processes.contains(p) {
                            existing.processes.push(p.clone());
                        }
                    }
                    if m.score > existing.score {
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

fn best_first(a: &KbMatch, b: &KbMatch) -> std::cmp::Ordering {
    b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id))
}

fn is_leak(f: &Finding) -> bool {
    matches!(f.verdict, Verdict::Leak | Verdict::Suspect)
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
    let mut system: BTreeMap<&'static str, &Finding> = BTreeMap::new();
    for finding in findings.iter().filter(|f| is_leak(f)) {
        let Some(key) = counter_key(&finding.counter) else {
            continue;
        };
        let name = image_name(&finding.process);
        let slot = if SYSTEM_WIDE.contains(&name.as_str()) {
            &mut system
        } else {
            match processes.iter().position(|p| p.name == name) {
                Some(i) => &mut processes[i].counters,
                None => {
                    processes.push(LeakingProcess {
                        name,
                        counters: BTreeMap::new(),
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

fn log_context(log: &PerfLog, aliases: &Aliases) -> LogContext {
    let objects = log.objects();
    let mut images: Vec<String> = Vec::new();
    let mut present: Vec<(String, String)> = Vec::new();
    for object in &objects {
        present.push((object.to_ascii_lowercase(), format!("object '{object}'")));
    }
    for path in &log.all_paths {
        if let Some(instance) = &path.instance {
            let lower = instance.to_ascii_lowercase();
            if path.object == "Process" {
                if !images.contains(&lower) {
                    images.push(lower.clone());
                }
                if !present.iter().any(|(p, _)| *p == lower) {
                    present.push((lower, format!("process '{instance}'")));
                }
            }
        }
    }
    let eras = aliases
        .log_eras(&images, &objects)
        .into_iter()
        .map(str::to_string)
        .collect();
    LogContext { present, eras }
}

/// The eras an article applies to, from its products, versions and title.
fn article_eras(article: &KbArticle) -> Vec<&'static str> {
    let text = format!(
        "{} {} {}",
        article.products.join(" "),
        article.versions.join(" "),
        article.title
    )
    .to_ascii_lowercase();
    let mut eras: Vec<&'static str> = Vec::new();
    let modern = [
        "xp",
        "2003",
        "2008",
        "2012",
        "2016",
        "2019",
        "2022",
        "vista",
        "windows 7",
        "windows 8",
        "windows 10",
        "windows 11",
        "iis 6",
        "iis 7",
        "iis 8",
        "iis 10",
        "exchange 2007",
        "exchange 2010",
        "forefront",
        "tmg",
        "sql server 2005",
    ];
    if modern.iter().any(|w| text.contains(w)) {
        eras.push("modern");
    }
    if text.contains("2000") {
        eras.push("w2k");
    }
    let nt_versions = article.versions.iter().any(|v| {
        let v = v.trim_start_matches("NT ");
        v.starts_with("3.") || v.starts_with("4.0")
    });
    if text.contains("windows nt") && nt_versions {
        eras.push("nt");
    }
    if eras.is_empty() {
        // Undated: archive articles predate 2002 (NT 4.0/2000 servers); web ones are later.
        if article.id.starts_with('Q') {
            eras.extend(["nt", "w2k"]);
        } else {
            eras.extend(["w2k", "modern"]);
        }
    }
    eras
}

/// `+41.7/h` for counts, `+1.2 MB/h` for bytes.
fn format_rate(finding: &Finding) -> Option<String> {
    let slope = finding.slope_per_hour?;
    if !slope.is_finite() {
        return None;
    }
    let sign = if slope >= 0.0 { "+" } else { "-" };
    let magnitude = slope.abs();
    let text = if finding.unit == "bytes" || finding.counter.contains("Bytes") {
        let units = [
            ("GB", 1024.0 * 1024.0 * 1024.0),
            ("MB", 1024.0 * 1024.0),
            ("KB", 1024.0),
        ];
        match units.iter().find(|(_, size)| magnitude >= *size) {
            Some((unit, size)) => format!("{sign}{:.1} {unit}/h", magnitude / size),
            None => format!("{sign}{magnitude:.0} bytes/h"),
        }
    } else {
        format!("{sign}{magnitude:.1}/h")
    };
    Some(text)
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
    if let Some(rate) = format_rate(finding) {
        sentence.push_str(&format!(", {rate}"));
    }
    sentence
}

fn score(
    article: &KbArticle,
    process: &LeakingProcess,
    system: &BTreeMap<&'static str, &Finding>,
    context: &LogContext,
    by_design: &[&KbArticle],
    aliases: &Aliases,
) -> Option<KbMatch> {
    let mut evidence: Vec<String> = Vec::new();
    let mut against: Vec<String> = Vec::new();
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
    let mut total = match (exact, &alias, generic) {
        (true, _, _) => 0.45,
        (false, Some(_), _) => 0.30,
        (false, None, true) => 0.10,
        (false, None, false) => return None,
    };
    if let Some(name) = &alias {
        evidence.push(format!(
            "the article names {name}, the same component as {} in another Windows version",
            process.name
        ));
    }

    // Counters: the article's against what leaks here (the process's own, plus machine-wide
    // pool counters, which most pool articles mean).
    let mut matched: Vec<(&str, &Finding, bool)> = Vec::new();
    for key in &article.counters {
        if let Some((k, f)) = process.counters.get_key_value(key.as_str()) {
            matched.push((k, f, false));
        } else if let Some((k, f)) = system.get_key_value(key.as_str()) {
            matched.push((k, f, true));
        }
    }
    if matched.is_empty() {
        return None;
    }
    let coverage = matched.len() as f64 / article.counters.len().max(1) as f64;
    total += 0.25 * coverage;
    for (key, finding, machine_wide) in &matched {
        let who = if *machine_wide {
            ""
        } else {
            process.name.as_str()
        };
        evidence.push(finding_sentence(who, key, finding));
    }
    for key in &article.counters {
        if !matched.iter().any(|(k, _, _)| k == key) {
            against.push(format!(
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
        total += 0.05;
    } else {
        total -= (0.04 * extra.len() as f64).min(0.12);
        let names: Vec<&str> = extra.iter().map(|k| counter_display(k)).collect();
        against.push(format!(
            "{} {} also grows; the article does not describe that",
            process.name,
            names.join(" and ")
        ));
    }

    // Objects or services in the log that the article ties to the leak.
    let mut specific = 0usize;
    let mut common = 0usize;
    for wanted in &article.corroborating_objects {
        let lower = wanted.to_ascii_lowercase();
        if let Some((_, label)) = context.present.iter().find(|(name, _)| *name == lower) {
            if GENERIC_OBJECTS
                .iter()
                .any(|g| g.eq_ignore_ascii_case(wanted))
            {
                common += 1;
            } else {
                specific += 1;
                evidence.push(format!("{label} present in the log"));
            }
        }
    }
    if generic && specific == 0 {
        // A leak in "whichever process calls the API" fits any leaking process: without a
        // specific sign in the log it is a guess.
        return None;
    }
    if specific > 0 {
        total += (0.20 + 0.05 * (specific as f64 - 1.0)).min(0.30);
    } else {
        let wanted: Vec<&str> = article
            .corroborating_objects
            .iter()
            .filter(|o| !GENERIC_OBJECTS.iter().any(|g| g.eq_ignore_ascii_case(o)))
            .map(String::as_str)
            .collect();
        if !wanted.is_empty() {
            // Logs often leave such objects out, so their absence weighs little.
            total -= 0.03;
            against.push(format!("no sign in the log of {}", wanted.join(", ")));
        }
        if common > 0 {
            total += 0.03;
        }
    }

    // Era: an NT 4.0 article rarely explains a Windows Server 2012 log, and vice versa.
    if !context.eras.is_empty() {
        let eras = article_eras(article);
        if eras.iter().any(|e| context.eras.iter().any(|l| l == e)) {
            total += 0.03;
        } else {
            total -= 0.20;
            against.push(format!(
                "the article is for {} systems; the log looks {}",
                era_words(&eras),
                era_words(&context.eras.iter().map(String::as_str).collect::<Vec<_>>())
            ));
        }
    }

    // Expected behaviour that looks like this growth argues against a leak.
    for design in by_design {
        let same_process = design
            .processes
            .iter()
            .any(|p| p.eq_ignore_ascii_case(&process.name));
        let all_explained = matched
            .iter()
            .all(|(k, _, _)| design.counters.iter().any(|c| c == k));
        if same_process && all_explained {
            total -= 0.40;
            against.push(format!("by design: {} ({})", design.title, design.id));
        }
    }

    // Shapes the analysis called leaks but that look like filling caches weaken the fit.
    let soft_shapes = [
        "warm-up",
        "growth-stopped",
        "level-shift",
        "cyclic",
        "burst",
    ];
    if matched
        .iter()
        .all(|(_, f, _)| soft_shapes.contains(&f.shape.as_str()))
    {
        total -= 0.10;
        against.push("the growth levels off rather than climbing steadily".to_string());
    }

    // How sure the analysis is scales the fit.
    let confidence = matched
        .iter()
        .map(|(_, f, _)| f.confidence.clamp(0.0, 1.0))
        .sum::<f64>()
        / matched.len() as f64;
    let all_suspect = matched
        .iter()
        .all(|(_, f, _)| f.verdict == Verdict::Suspect);
    let mut factor = 0.75 + 0.25 * confidence;
    if all_suspect {
        factor *= 0.85;
    }
    let final_score = ((total * factor).clamp(0.0, 1.0) * 100.0).round() / 100.0;
    if final_score < REPORT_THRESHOLD {
        return None;
    }
    evidence.extend(against);
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
    Some(KbMatch {
        id: article.id.clone(),
        title: article.title.clone(),
        score: final_score,
        processes,
        evidence,
        fix: article.fix.clone(),
    })
}

fn era_words(eras: &[&str]) -> String {
    let words: Vec<&str> = eras
        .iter()
        .map(|e| match *e {
            "nt" => "Windows NT 3.x/4.0",
            "w2k" => "Windows 2000/XP",
            "modern" => "Windows Server 2003 or later",
            other => other,
        })
        .collect();
    words.join(" or ")
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

    #[test]
    fn article_eras_follow_versions() {
        let nt = KbArticle {
            id: "Q1".into(),
            products: vec!["Windows NT".into()],
            versions: vec!["4.0".into()],
            ..Default::default()
        };
        assert_eq!(article_eras(&nt), vec!["nt"]);
        let modern = KbArticle {
            id: "KB1".into(),
            products: vec!["Windows Server 2003".into()],
            ..Default::default()
        };
        assert_eq!(article_eras(&modern), vec!["modern"]);
    }
}
