//! Opens report.html in headless Chromium, as an engineer would open the ticket attachment:
//! the page renders (screenshot not blank), the verdict and the KB article are in the rendered
//! DOM, the table of contents links land on the page, no image is broken and no resource was
//! fetched (the page needs none). Opens a batch's index.html at 1366x768: no sideways
//! scrolling, a click on a heading sorts. Skips when Chromium is not installed.

use crate::report_fixture;

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use perfleak::report::write_report_dir;
use report_fixture::{sample_report, HOSTILE};

/// Runs after the page has loaded (images included) and writes its findings into the DOM.
const PROBE: &str = r#"<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); }).length;
  var fetched = performance.getEntriesByType('resource')
    .map(function (e) { return e.name; })
    .filter(function (n) { return n.indexOf('data:') !== 0; }).length;
  var toc = Array.prototype.slice.call(document.querySelectorAll('nav#contents a'));
  var lost = toc.filter(function (a) {
    return !document.getElementById(a.getAttribute('href').slice(1));
  }).length;
  document.body.setAttribute('data-probe', 'images=' + imgs.length + ' broken=' + broken + ' fetched=' + fetched
    + ' contents=' + toc.length + ' lost=' + lost);
});
</script>"#;

fn chromium() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("CHROMIUM").map(PathBuf::from),
        Some(PathBuf::from("/usr/bin/chromium")),
        Some(PathBuf::from("/usr/bin/chromium-browser")),
    ];
    candidates.into_iter().flatten().find(|p| p.is_file())
}

/// What Chromium printed.
struct Run {
    stdout: String,
    stderr: String,
}

/// Runs Chromium headless on `page` with `extra` flags; kills it if it hangs. Output goes to
/// files, not pipes: a 1.5 MB DOM dump would fill a pipe nobody reads until exit.
fn run_chromium(browser: &Path, work: &Path, page: &Path, extra: &[String]) -> Run {
    let profile = tempfile::tempdir_in(work).expect("profile dir");
    let out_path = work.join("chromium.stdout");
    let err_path = work.join("chromium.stderr");
    let mut cmd = Command::new(browser);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(extra)
    .arg(format!("file://{}", page.display()))
    .stdin(Stdio::null())
    .stdout(File::create(&out_path).expect("stdout file"))
    .stderr(File::create(&err_path).expect("stderr file"));
    let mut child = cmd.spawn().expect("chromium starts");
    let started = Instant::now();
    while child.try_wait().expect("chromium status").is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Run {
        stdout: String::from_utf8_lossy(&std::fs::read(&out_path).unwrap_or_default()).into_owned(),
        stderr: String::from_utf8_lossy(&std::fs::read(&err_path).unwrap_or_default()).into_owned(),
    }
}

fn distinct_colours(png_bytes: &[u8]) -> (u32, u32, usize) {
    let mut reader = png::Decoder::new(png_bytes)
        .read_info()
        .expect("screenshot header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("screenshot data");
    let channels = info.color_type.samples();
    let colours: HashSet<&[u8]> = buf[..info.buffer_size()].chunks(channels).collect();
    (info.width, info.height, colours.len())
}

#[test]
fn report_renders_in_a_real_browser() {
    let Some(browser) = chromium() else {
        eprintln!("skipping report_browser: Chromium not found (install the `chromium` package or set CHROMIUM)");
        return;
    };
    let (mut report, log) = sample_report();
    let out = tempfile::tempdir().expect("temp dir");
    // PERFLEAK_KEEP_REPORT=<dir> keeps the report and screenshot for a person to look at.
    let dir = match std::env::var_os("PERFLEAK_KEEP_REPORT") {
        Some(keep) => PathBuf::from(keep),
        None => out.path().join("report"),
    };
    write_report_dir(&mut report, &log, &dir).expect("report written");
    let page = dir
        .join("report.html")
        .canonicalize()
        .expect("absolute page path");
    let shot = dir.join("screenshot.png");
    let work = tempfile::tempdir().expect("work dir");

    let shown = run_chromium(
        &browser,
        work.path(),
        &page,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,2000".to_string(),
        ],
    );
    let log_text = shown.stderr;
    let bytes = std::fs::read(&shot)
        .unwrap_or_else(|e| panic!("no screenshot ({e}); chromium said:\n{log_text}"));
    let (w, h, colours) = distinct_colours(&bytes);
    assert_eq!((w, h), (1280, 2000));
    assert!(colours > 200, "screenshot looks blank: {colours} colours");

    let dumped = run_chromium(&browser, work.path(), &page, &["--dump-dom".to_string()]);
    let dom = dumped.stdout;
    assert!(
        dom.contains("Q192265"),
        "KB id not in the rendered DOM:\n{}",
        &dom[..dom.len().min(2000)]
    );
    assert!(dom.contains("Windows NT 4.0 Service Pack 4"));
    // The verdict, first thing after the contents.
    let verdict = dom.find("id=\"verdict\"").expect("a verdict section");
    assert!(dom.find("id=\"contents\"").expect("a table of contents") < verdict);
    assert!(
        dom[verdict..].contains("winlogon (PID 212) leaks Handle Count"),
        "{}",
        &dom[verdict..(verdict + 800).min(dom.len())]
    );
    assert!(
        !dom.contains(HOSTILE),
        "hostile instance name became markup"
    );
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));

    let all_logs = format!("{log_text}\n{}", dumped.stderr);
    for failure in ["Failed to load resource", "net::ERR"] {
        assert!(
            !all_logs.contains(failure),
            "the page tried to load something:\n{all_logs}"
        );
    }
    let html = std::fs::read_to_string(&page).expect("page");

    // Chromium does not log a missing file:// image, so ask the page itself: a copy of the
    // report with a probe that, once loaded, counts images that failed to decode and any
    // resource fetched from outside the page.
    let probe_page = dir.join("probe.html");
    std::fs::write(
        &probe_page,
        html.replace("</body>", &format!("{PROBE}</body>")),
    )
    .expect("probe page");
    let probed = run_chromium(
        &browser,
        work.path(),
        &probe_page,
        &["--dump-dom".to_string()],
    );
    let probe = probed
        .stdout
        .split("data-probe=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("probe did not run:\n{}", probed.stderr));
    // Three flagged charts and the overview, all inline; a table of contents whose links
    // all land on the page: verdict, cause, three processes and their series, all KB
    // articles, all series, not judged, the log, warnings.
    assert_eq!(
        probe, "images=4 broken=0 fetched=0 contents=13 lost=0",
        "what the reader's browser shows"
    );
    let _ = std::fs::remove_file(&probe_page);
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the page references the network"
    );
}

/// Runs after load: sorts the index by its Log column, then reads the page's width against the
/// window's and the order of the rows.
const INDEX_PROBE: &str = r#"<script>
window.addEventListener('load', function () {
  var rows = function () {
    return Array.prototype.map.call(document.querySelectorAll('tbody tr'), function (r) {
      return r.cells[0].textContent;
    }).join(',');
  };
  var before = rows();
  document.querySelectorAll('th')[1].click();
  var byLog = rows();
  var wide = document.documentElement.scrollWidth > window.innerWidth;
  document.body.setAttribute('data-probe', 'before=' + before + ' bylog=' + byLog + ' scrolls=' + wide);
});
</script>"#;

#[test]
fn the_batch_index_fits_a_laptop_and_sorts_on_click() {
    let Some(browser) = chromium() else {
        eprintln!("skipping report_browser: Chromium not found (install the `chromium` package or set CHROMIUM)");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    // A long archive path, as support engineers get them.
    let deep = dir
        .path()
        .join("customer-archive-2025-11-collected-by-the-night-shift-of-the-datacentre")
        .join("server-room-b-rack-14-unit-07-datacollector-output-folder");
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::copy(
        crate::cli_common::sample("restart-leak.csv"),
        deep.join("DataCollector01.csv"),
    )
    .unwrap();
    std::fs::copy(
        crate::cli_common::sample("healthy-server.csv"),
        dir.path().join("a-healthy.csv"),
    )
    .unwrap();
    let out = dir.path().join("out");
    crate::cli_common::perfleak()
        .args(["analyze", "-q"])
        .arg(dir.path())
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let html = std::fs::read_to_string(out.join("index.html")).expect("index");
    let page = out.join("probe.html");
    std::fs::write(
        &page,
        html.replace("</body>", &format!("{INDEX_PROBE}</body>")),
    )
    .unwrap();
    let work = tempfile::tempdir().expect("work dir");
    let run = run_chromium(
        &browser,
        work.path(),
        &page.canonicalize().unwrap(),
        &[
            "--dump-dom".to_string(),
            "--window-size=1366,768".to_string(),
        ],
    );
    let probe = run
        .stdout
        .split("data-probe=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("probe did not run:\n{}", run.stderr));
    // Worst first (the leak, then the healthy log); by log path after the click (a-healthy.csv
    // sorts before customer-archive-...); no sideways scrolling at 1366 px.
    assert_eq!(probe, "before=1,2 bylog=2,1 scrolls=false");
}

/// A report reached from a merged index (`perfleak merge`) leads back to it: the page takes
/// the way back from the link's `#from=`, not its shard's own index; an address that names
/// anything but a relative index.html (a script, another site) leaves the link alone.
#[test]
fn a_report_opened_from_a_merged_index_leads_back_to_it() {
    let Some(browser) = chromium() else {
        eprintln!("skipping report_browser: Chromium not found (install the `chromium` package or set CHROMIUM)");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    for name in ["restart-leak.csv", "healthy-server.csv"] {
        std::fs::copy(crate::cli_common::sample(name), logs.join(name)).unwrap();
    }
    for shard in ["1/2", "2/2"] {
        crate::cli_common::perfleak()
            .args(["analyze", "-q", "--shard", shard])
            .arg(&logs)
            .arg("-o")
            .arg(dir.path().join(format!("s{}", &shard[..1])))
            .assert()
            .success();
    }
    let merged = dir.path().join("merged");
    crate::cli_common::perfleak()
        .arg("merge")
        .arg(dir.path().join("s1"))
        .arg(dir.path().join("s2"))
        .arg("-o")
        .arg(&merged)
        .assert()
        .success();
    let index = std::fs::read_to_string(merged.join("index.html")).expect("merged index");
    let link = index
        .split("href=\"")
        .filter_map(|s| s.split('"').next())
        .find(|l| l.contains("/report.html#from="))
        .unwrap_or_else(|| panic!("no report link with a way back:\n{index}"));
    let (report, back) = link.split_once("#from=").unwrap();
    let page = merged
        .join(report)
        .canonicalize()
        .expect("the report exists");
    let work = tempfile::tempdir().expect("work dir");
    let back_link = |fragment: &str| {
        let target = PathBuf::from(format!("{}{fragment}", page.display()));
        let run = run_chromium(&browser, work.path(), &target, &["--dump-dom".to_string()]);
        run.stdout
            .split("<p class=\"back\">")
            .nth(1)
            .and_then(|rest| rest.split("</p>").next())
            .unwrap_or_else(|| panic!("no back link:\n{}", run.stderr))
            .to_string()
    };
    let from_merge = back_link(&format!("#from={back}"));
    assert!(
        from_merge.contains(&format!("href=\"{back}\"")),
        "{from_merge}"
    );
    assert!(from_merge.contains("merged batch"), "{from_merge}");
    for hostile in [
        "",
        "#from=javascript:alert(1)//index.html",
        "#from=https://example.com/index.html",
    ] {
        let own = back_link(hostile);
        assert!(own.contains("href=\"../index.html\""), "{hostile}: {own}");
    }
}
