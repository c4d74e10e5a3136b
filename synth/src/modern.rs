//! Today's servers (Windows Server 2012 R2 to 2022) whose leaks modern support articles
//! describe: an IIS worker with ASP.NET and .NET CLR Memory objects, an Exchange 2010 Client
//! Access worker, a WMI provider host, lsass on a file server, SQL Server, and paged pool used
//! up under the Server service. Each log carries the marks of its Windows version (processes
//! such as dwm, MsMpEng, Registry or Memory Compression, the Process V2 object, 64-bit address
//! spaces) and is labelled with the catalogue article a matcher should rank first.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::corpus::{finish_log, pid_source, week_hour, MachineLog};
use super::family::{self, Grid, Recipe, MB};
use super::label::Family;
use super::pdh::{GeneratedLog, ObjectColumn, ServiceCounter, ServiceSpec};
use crate::vocab::Counter;

/// What a matcher should say of a modern log: the article it ranks first, and whether that
/// article may be named as the cause (`likely`) or only listed (`possible`: a guide, a
/// machine-wide pool article, an article about another server role, a host process).
#[derive(Debug, Clone, PartialEq)]
pub struct KbExpectation {
    pub article: &'static str,
    pub likely: bool,
    /// The Windows version the log's marks point to, for people reading the label.
    pub windows: &'static str,
}

/// A generated modern log and what the matcher should make of it.
#[derive(Debug, Clone)]
pub struct ModernCase {
    pub family: &'static str,
    pub log: GeneratedLog,
    pub expect: KbExpectation,
}

/// The scenario families, in the order [`modern_logs`] returns them.
pub const MODERN_FAMILIES: [&str; 6] = [
    "iis-aspnet-managed",
    "exchange2010-cas-w3wp",
    "wmiprvse-handles",
    "lsass-file-server",
    "sqlservr-growth",
    "paged-pool-srv",
];

/// `per_family` logs of each modern family, seeded from `seed`.
pub fn modern_logs(seed: u64, per_family: usize) -> Vec<ModernCase> {
    let mut out = Vec::new();
    for (f, name) in MODERN_FAMILIES.iter().enumerate() {
        for i in 0..per_family {
            let s = seed
                .wrapping_mul(1_000_003)
                .wrapping_add((f as u64) * 1000 + i as u64);
            out.push(modern_log(name, s, i));
        }
    }
    out
}

/// One log of family `name` (one of [`MODERN_FAMILIES`]).
fn modern_log(name: &'static str, seed: u64, index: usize) -> ModernCase {
    let mut rng = SmallRng::seed_from_u64(seed);
    let (procs, expect, year): (Vec<Proc>, KbExpectation, i32) = match name {
        "iis-aspnet-managed" => iis_aspnet(&mut rng),
        "exchange2010-cas-w3wp" => exchange_cas(&mut rng),
        "wmiprvse-handles" => wmiprvse(&mut rng),
        "lsass-file-server" => lsass_file_server(&mut rng),
        "sqlservr-growth" => sqlservr(&mut rng),
        _ => paged_pool(&mut rng),
    };
    let hours = rng.random_range(48.0..96.0_f64).round();
    let interval = [60.0, 300.0, 600.0][rng.random_range(0..3)];
    let samples = (hours * 3600.0 / interval).round() as usize + 1;
    let day0 = NaiveDate::from_ymd_opt(year, 1, 5).unwrap_or_default();
    let start: NaiveDateTime = day0.and_hms_opt(0, 0, 0).unwrap_or_default()
        + Duration::minutes(rng.random_range(0..(300 * 24 * 60)));
    let grid = Grid {
        samples,
        interval_seconds: interval,
        week_hour0: week_hour(start),
        load: office_load(start, samples, interval),
    };
    let mut pids = pid_source();
    let mut services = Vec::new();
    for p in &procs {
        services.push(process(&mut rng, p, &grid, &mut pids));
    }
    let mut objects = objects_of(name, &mut rng, &grid, &services);
    let host = format!("{}{:03}", host_prefix(name), rng.random_range(0..1000));
    let mut spec = finish_log(
        MachineLog {
            name: format!("modern-{name}-{index:02}"),
            seed,
            host: host.clone(),
            zone: ("W. Europe Standard Time", -60),
            start,
            grid: &grid,
        },
        services,
        Vec::new(),
        &mut rng,
    );
    let mut labels: Vec<_> = spec
        .services
        .iter()
        .flat_map(|s| s.counters.iter().filter_map(|c| c.label.clone()))
        .collect();
    // Machine-wide pool series carry their own labels.
    for (column, label) in objects.iter_mut() {
        if let Some(l) = label.as_mut() {
            l.machine = host.clone();
            labels.push(l.clone());
        }
        spec.objects_after.push(column.clone());
    }
    ModernCase {
        family: name,
        log: GeneratedLog { spec, labels },
        expect,
    }
}

fn host_prefix(name: &str) -> &'static str {
    match name {
        "iis-aspnet-managed" => "WEB",
        "exchange2010-cas-w3wp" => "CAS",
        "wmiprvse-handles" => "MGMT",
        "lsass-file-server" | "paged-pool-srv" => "FS",
        _ => "SQL",
    }
}

/// Office hours on weekdays: 0 at night, up to 1 at midday.
fn office_load(start: NaiveDateTime, samples: usize, interval: f64) -> Vec<f64> {
    let h0 = week_hour(start);
    (0..samples)
        .map(|t| {
            let h = h0 + t as f64 * interval / 3600.0;
            let day = (h / 24.0).floor().rem_euclid(7.0);
            let hour = h.rem_euclid(24.0);
            if day < 5.0 && (8.0..18.0).contains(&hour) {
                0.5 * (1.0 - (2.0 * std::f64::consts::PI * (hour - 8.0) / 10.0).cos())
            } else {
                0.0
            }
        })
        .collect()
}

/// A process of a modern server: image, shape, Private Bytes (MB) and handles at the start,
/// the leak rates when it leaks, and how far its address space reaches beyond its private
/// bytes (64-bit processes reserve gigabytes).
struct Proc {
    image: &'static str,
    family: Family,
    pb_mb: f64,
    handles: f64,
    /// (MB/h, handles/h); zero where that counter does not leak.
    leak: (f64, f64),
    reserve_gb: f64,
}

fn p(image: &'static str, family: Family, pb_mb: f64, handles: f64) -> Proc {
    Proc {
        image,
        family,
        pb_mb,
        handles,
        leak: (0.0, 0.0),
        reserve_gb: 0.0,
    }
}

impl Proc {
    fn leaks(mut self, mb_per_hour: f64, handles_per_hour: f64) -> Proc {
        self.leak = (mb_per_hour, handles_per_hour);
        self
    }

    fn x64(mut self, reserve_gb: f64) -> Proc {
        self.reserve_gb = reserve_gb;
        self
    }
}

/// The processes every modern Windows server runs, with the marks of its version.
fn base_processes(marks: &[&'static str]) -> Vec<Proc> {
    use Family::*;
    let mut out = vec![
        p("System", Flat, 0.2, 2600.0),
        p("smss", Flat, 0.5, 53.0),
        p("csrss", Flat, 2.1, 480.0),
        p("services", Flat, 6.5, 720.0),
        p("svchost", Flat, 9.0, 820.0),
        p("svchost", Flat, 15.0, 540.0),
        p("svchost", Flat, 4.2, 210.0),
        p("spoolsv", Flat, 6.0, 430.0),
    ];
    for &image in marks {
        out.push(match image {
            "MsMpEng" => p(image, Sawtooth, 210.0, 900.0),
            "dwm" => p(image, Flat, 28.0, 240.0),
            "Registry" => p(image, Flat, 5.0, 100.0),
            "Memory Compression" => p(image, Flat, 0.5, 10.0),
            _ => p(image, Flat, 1.4, 160.0),
        });
    }
    out
}

fn iis_aspnet(rng: &mut SmallRng) -> (Vec<Proc>, KbExpectation, i32) {
    use Family::*;
    let mut procs = base_processes(&["wininit", "dwm", "MsMpEng", "Registry"]);
    procs.push(p("lsass", Flat, 11.0, 1450.0));
    procs.push(p("WmiPrvSE", Sawtooth, 18.0, 380.0));
    procs.push(p("w3wp", Flat, 260.0, 900.0).x64(9.0));
    let rate = rng.random_range(8.0..40.0);
    procs.push(
        p("w3wp", LinearLeak, 420.0, 1300.0)
            .leaks(rate, 0.0)
            .x64(11.0),
    );
    let expect = KbExpectation {
        article: "troubleshoot-high-memory-usage-in-applications",
        likely: false,
        windows: "2019",
    };
    (procs, expect, 2025)
}

fn exchange_cas(rng: &mut SmallRng) -> (Vec<Proc>, KbExpectation, i32) {
    use Family::*;
    let mut procs = base_processes(&["wininit", "dwm"]);
    procs.push(p("lsass", Flat, 60.0, 2400.0));
    procs.push(p("store", DailyCycle, 4200.0, 9000.0).x64(24.0));
    procs.push(p("MSExchangeRPC", DailyCycle, 380.0, 2100.0).x64(6.0));
    procs.push(p("w3wp", Flat, 300.0, 1600.0).x64(8.0));
    let (mb, handles) = (rng.random_range(6.0..30.0), rng.random_range(150.0..900.0));
    procs.push(
        p("w3wp", LinearLeak, 520.0, 4200.0)
            .leaks(mb, handles)
            .x64(10.0),
    );
    let expect = KbExpectation {
        article: "KB3007848",
        likely: true,
        windows: "2012",
    };
    (procs, expect, 2016)
}

fn wmiprvse(rng: &mut SmallRng) -> (Vec<Proc>, KbExpectation, i32) {
    use Family::*;
    let mut procs = base_processes(&[
        "wininit",
        "dwm",
        "MsMpEng",
        "Registry",
        "Memory Compression",
    ]);
    procs.push(p("lsass", Flat, 12.0, 1500.0));
    procs.push(p("WmiPrvSE", Sawtooth, 17.0, 360.0));
    let (mb, handles) = (rng.random_range(1.0..6.0), rng.random_range(40.0..300.0));
    procs.push(p("WmiPrvSE", LinearLeak, 24.0, 700.0).leaks(mb, handles));
    let expect = KbExpectation {
        article: "troubleshoot-wmi-performance-issues",
        likely: false,
        windows: "2022",
    };
    (procs, expect, 2024)
}

fn lsass_file_server(rng: &mut SmallRng) -> (Vec<Proc>, KbExpectation, i32) {
    use Family::*;
    let mut procs = base_processes(&["wininit", "dwm", "MsMpEng", "Registry"]);
    let mb = rng.random_range(2.0..12.0);
    procs.push(p("lsass", LinearLeak, 45.0, 2200.0).leaks(mb, 0.0));
    procs.push(p("dfsrs", Flat, 90.0, 900.0));
    // lsass is about domain controllers in the only modern article: on a member file server
    // (no NTDS object) it can be listed, not named as the cause.
    let expect = KbExpectation {
        article: "KB5035857",
        likely: false,
        windows: "2019",
    };
    (procs, expect, 2024)
}

fn sqlservr(rng: &mut SmallRng) -> (Vec<Proc>, KbExpectation, i32) {
    use Family::*;
    let mut procs = base_processes(&["wininit", "dwm", "MsMpEng", "Registry"]);
    procs.push(p("lsass", Flat, 12.0, 1500.0));
    procs.push(p("SQLAGENT", Flat, 40.0, 600.0));
    let mb = rng.random_range(40.0..200.0);
    procs.push(
        p("sqlservr", LinearLeak, 6000.0, 1800.0)
            .leaks(mb, 0.0)
            .x64(14.0),
    );
    // sqlservr runs many components' code: the SQL article is listed, not the named cause.
    let expect = KbExpectation {
        article: "memory-optimized-tempdb-metadata-out-of-memory-errors",
        likely: false,
        windows: "2022",
    };
    (procs, expect, 2025)
}

fn paged_pool(_rng: &mut SmallRng) -> (Vec<Proc>, KbExpectation, i32) {
    use Family::*;
    let mut procs = base_processes(&["wininit", "dwm"]);
    procs.push(p("lsass", Flat, 30.0, 1800.0));
    procs.push(p("dfsrs", Flat, 90.0, 900.0));
    // A machine-wide pool article is never more than possible (no process of its own).
    let expect = KbExpectation {
        article: "KB312362",
        likely: false,
        windows: "2012 R2",
    };
    (procs, expect, 2019)
}

/// A process's series: Private Bytes and Handle Count from the generator's families, then
/// Virtual Bytes (its private bytes plus what it reserves) and a flat Working Set.
fn process(
    rng: &mut SmallRng,
    proc_: &Proc,
    grid: &Grid,
    pids: &mut dyn FnMut(&mut SmallRng) -> u32,
) -> ServiceSpec {
    let (mb, handles) = proc_.leak;
    let recipe = Recipe {
        pb_base: Some(proc_.pb_mb * MB),
        hc_base: Some(proc_.handles),
        pb_slope: (mb > 0.0).then_some(mb * MB),
        hc_slope: (handles > 0.0).then_some(handles),
        leaks: Some((mb > 0.0, handles > 0.0)),
        noise_frac: Some(0.01),
        missing_rate: Some(0.002),
        ..Recipe::default()
    };
    let mut spec = family::service(rng, proc_.family, proc_.image, grid, &recipe, pids);
    let private = spec
        .counters
        .iter()
        .find(|c| c.counter == "Private Bytes")
        .map(|c| c.values.clone())
        .unwrap_or_default();
    let reserve = proc_.reserve_gb * 1024.0 * MB + rng.random_range(40.0..200.0) * MB;
    let ws_ratio = rng.random_range(0.5..0.9);
    let ws_level = proc_.pb_mb * MB * ws_ratio;
    let virtual_bytes = private
        .iter()
        .map(|v| ((v + reserve) / 65536.0).round() * 65536.0)
        .collect();
    let working_set = private
        .iter()
        .map(|v| {
            if v.is_finite() {
                (ws_level * rng.random_range(0.97..1.03) / 4096.0).round() * 4096.0
            } else {
                f64::NAN
            }
        })
        .collect();
    for (name, values) in [
        ("Virtual Bytes", virtual_bytes),
        ("Working Set", working_set),
    ] {
        spec.counters.push(ServiceCounter {
            counter: name.into(),
            values,
            decimals: 0,
            label: None,
        });
    }
    spec
}

type Labelled = (ObjectColumn, Option<crate::SeriesLabel>);

fn column(object: &str, instance: Option<&str>, counter: &str, values: Vec<f64>) -> Labelled {
    (
        ObjectColumn {
            object: object.into(),
            instance: instance.map(str::to_string),
            counter: counter.into(),
            values,
            decimals: 0,
        },
        None,
    )
}

/// A counter following office traffic up to `peak`.
fn traffic(rng: &mut SmallRng, grid: &Grid, peak: f64) -> Vec<f64> {
    grid.load
        .iter()
        .map(|l| (peak * (0.05 + 0.95 * l) * rng.random_range(0.8..1.2)).round())
        .collect()
}

/// The server objects of each family (what corroborates its article, and what dates it).
fn objects_of(
    name: &str,
    rng: &mut SmallRng,
    grid: &Grid,
    services: &[ServiceSpec],
) -> Vec<Labelled> {
    let n = grid.samples;
    let private_of = |image: &str| -> Vec<f64> {
        services
            .iter()
            .rev()
            .find(|s| s.image == image)
            .and_then(|s| s.counters.iter().find(|c| c.counter == "Private Bytes"))
            .map(|c| c.values.clone())
            .unwrap_or_else(|| vec![f64::NAN; n])
    };
    match name {
        "iis-aspnet-managed" => {
            // A managed leak: the heaps grow with the worker's private bytes.
            let native = rng.random_range(90.0..160.0) * MB;
            let heaps = private_of("w3wp")
                .iter()
                .map(|v| (v - native).max(0.0).round())
                .collect();
            vec![
                column(
                    ".NET CLR Memory",
                    Some("w3wp"),
                    "# Bytes in all Heaps",
                    heaps,
                ),
                column(
                    "ASP.NET v4.0.30319",
                    None,
                    "Requests Current",
                    traffic(rng, grid, 80.0),
                ),
                column(
                    "Web Service",
                    Some("_Total"),
                    "Current Connections",
                    traffic(rng, grid, 400.0),
                ),
                column(
                    "W3SVC_W3WP",
                    Some("_Total"),
                    "Active Requests",
                    traffic(rng, grid, 60.0),
                ),
            ]
        }
        "exchange2010-cas-w3wp" => vec![
            column(
                "RPC/HTTP Proxy",
                None,
                "Current Number of Unique Users",
                traffic(rng, grid, 900.0),
            ),
            column(
                "MSExchange RpcClientAccess",
                None,
                "Connection Count",
                traffic(rng, grid, 3000.0),
            ),
            column(
                "Processor Information",
                Some("_Total"),
                "% Processor Time",
                traffic(rng, grid, 70.0),
            ),
        ],
        "wmiprvse-handles" => vec![
            column(
                "SMB Server",
                None,
                "Files Opened/sec",
                traffic(rng, grid, 40.0),
            ),
            column(
                "Processor Information",
                Some("_Total"),
                "% Processor Time",
                traffic(rng, grid, 35.0),
            ),
        ],
        "lsass-file-server" => vec![
            column("Server", None, "Files Open", traffic(rng, grid, 5000.0)),
            column("Server", None, "Server Sessions", traffic(rng, grid, 300.0)),
            column(
                "SMB Server Shares",
                Some("_Total"),
                "Current Open File Count",
                traffic(rng, grid, 5000.0),
            ),
        ],
        "sqlservr-growth" => {
            let target = private_of("sqlservr")
                .iter()
                .map(|v| (v / 1024.0).round())
                .collect();
            vec![
                column(
                    "SQLServer:Memory Manager",
                    None,
                    "Total Server Memory (KB)",
                    target,
                ),
                column(
                    "SQLServer:Buffer Manager",
                    None,
                    "Page life expectancy",
                    traffic(rng, grid, 3000.0),
                ),
                column(
                    "Process V2",
                    Some("MsMpEng:3312"),
                    "% Processor Time",
                    traffic(rng, grid, 6.0),
                ),
            ]
        }
        _ => paged_pool_objects(rng, grid),
    }
}

/// The machine's paged pool climbing under the Server service (files left open), with the
/// Server object's own pool counters and open files following it.
fn paged_pool_objects(rng: &mut SmallRng, grid: &Grid) -> Vec<Labelled> {
    let base = rng.random_range(300.0..700.0) * MB;
    let (pool, label) = family::system_series(
        rng,
        Family::LinearLeak,
        Counter::SystemPoolPaged,
        base,
        grid,
    );
    let srv_share = rng.random_range(0.3..0.6);
    let start = pool.iter().copied().find(|v| v.is_finite()).unwrap_or(base);
    let server_pool: Vec<f64> = pool
        .iter()
        .map(|v| (40.0 * MB + (v - start).max(0.0) * srv_share + 0.05 * start).round())
        .collect();
    let mut peak = 0.0_f64;
    let server_peak = server_pool
        .iter()
        .map(|v| {
            peak = peak.max(*v);
            peak
        })
        .collect();
    let open_files = server_pool
        .iter()
        .map(|v| (v / (3.0 * 1024.0)).round())
        .collect();
    let nonpaged_base = rng.random_range(150.0..300.0) * MB;
    let nonpaged = family::system_series(
        rng,
        Family::Flat,
        Counter::SystemPoolNonpaged,
        nonpaged_base,
        grid,
    );
    vec![
        (
            ObjectColumn {
                object: "Memory".into(),
                instance: None,
                counter: "Pool Paged Bytes".into(),
                values: pool,
                decimals: 0,
            },
            Some(label),
        ),
        (
            ObjectColumn {
                object: "Memory".into(),
                instance: None,
                counter: "Pool Nonpaged Bytes".into(),
                values: nonpaged.0,
                decimals: 0,
            },
            Some(nonpaged.1),
        ),
        column("Server", None, "Pool Paged Bytes", server_pool),
        column("Server", None, "Pool Paged Peak", server_peak),
        column(
            "Server",
            None,
            "Pool Paged Failures",
            vec![0.0; grid.samples],
        ),
        column("Server", None, "Files Open", open_files),
        column(
            "SMB Server Shares",
            Some("_Total"),
            "Current Open File Count",
            traffic(rng, grid, 4000.0),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_is_generated_with_its_label_and_is_reproducible() {
        let a = modern_logs(7, 1);
        let b = modern_logs(7, 1);
        assert_eq!(a.len(), MODERN_FAMILIES.len());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.log.to_csv_bytes(), y.log.to_csv_bytes(), "{}", x.family);
            assert!(!x.expect.article.is_empty());
            assert!(x.log.labels.iter().any(|l| l.truth == crate::Truth::Leak));
        }
        let pool = a
            .iter()
            .find(|c| c.family == "paged-pool-srv")
            .expect("pool");
        let text = String::from_utf8_lossy(&pool.log.to_csv_bytes()).into_owned();
        assert!(
            text.contains("\\Server\\Pool Paged Bytes")
                && text.contains("\\Memory\\Pool Paged Bytes")
        );
    }
}
