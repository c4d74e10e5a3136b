//! The bundled samples: five small, hand-described servers (a healthy one, three KB-era or
//! third-party leaks, a recycled app pool) built with the same generator as the benchmark.

use chrono::{NaiveDate, NaiveDateTime};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::corpus::{finish_log, pid_source, week_hour, MachineLog};
use super::family::{self, Grid, Recipe, MB};
use super::label::Family;
use super::pdh::{GeneratedLog, ObjectColumn, ServiceSpec};

/// File stems of the samples, in the order [`sample_logs`] returns them.
pub const SAMPLE_NAMES: [&str; 5] = [
    "healthy-server",
    "winlogon-smtp-leak",
    "exchange-async-leak",
    "thirdparty-leak",
    "restart-leak",
];

/// A process of a sample: image, shape, Private Bytes (MB) and Handle Count at the start.
struct Proc {
    image: &'static str,
    family: Family,
    pb_mb: f64,
    handles: f64,
    recipe: Recipe,
}

fn p(image: &'static str, family: Family, pb_mb: f64, handles: f64) -> Proc {
    Proc {
        image,
        family,
        pb_mb,
        handles,
        recipe: Recipe::default(),
    }
}

impl Proc {
    fn with(mut self, recipe: Recipe) -> Proc {
        self.recipe = recipe;
        self
    }
}

struct Machine {
    name: &'static str,
    host: &'static str,
    zone: (&'static str, i32),
    start: NaiveDateTime,
    interval_seconds: f64,
    hours: f64,
    id_process: bool,
    elapsed_time: bool,
}

/// A counter of a server object following the daily profile of office mail or web traffic.
struct Traffic {
    object: &'static str,
    instance: Option<&'static str>,
    counter: &'static str,
    peak: f64,
}

fn build(seed: u64, m: Machine, procs: Vec<Proc>, traffic: &[Traffic]) -> GeneratedLog {
    let mut rng = SmallRng::seed_from_u64(seed);
    let samples = (m.hours * 3600.0 / m.interval_seconds).round() as usize + 1;
    let week_hour0 = week_hour(m.start);
    let office: Vec<f64> = (0..samples)
        .map(|t| {
            let h = week_hour0 + t as f64 * m.interval_seconds / 3600.0;
            let day = (h / 24.0).floor().rem_euclid(7.0);
            let hour = h.rem_euclid(24.0);
            if day < 5.0 && (8.0..18.0).contains(&hour) {
                0.5 * (1.0 - (2.0 * std::f64::consts::PI * (hour - 8.0) / 10.0).cos())
            } else {
                0.0
            }
        })
        .collect();
    let grid = Grid {
        samples,
        interval_seconds: m.interval_seconds,
        week_hour0,
        load: office.clone(),
    };
    let mut pids = pid_source();
    let mut services: Vec<ServiceSpec> = Vec::new();
    for proc_ in procs {
        let recipe = Recipe {
            pb_base: Some(proc_.pb_mb * MB),
            hc_base: Some(proc_.handles),
            noise_frac: proc_.recipe.noise_frac.or(Some(0.01)),
            missing_rate: proc_.recipe.missing_rate.or(Some(0.002)),
            ..proc_.recipe
        };
        services.push(family::service(
            &mut rng,
            proc_.family,
            proc_.image,
            &grid,
            &recipe,
            &mut pids,
        ));
    }
    let objects_after = traffic
        .iter()
        .map(|c| ObjectColumn {
            object: c.object.into(),
            instance: c.instance.map(str::to_string),
            counter: c.counter.into(),
            values: office
                .iter()
                .map(|l| (c.peak * (0.05 + 0.95 * l) * rng.random_range(0.8..1.2)).round())
                .collect(),
            decimals: 0,
        })
        .collect();
    let mut spec = finish_log(
        MachineLog {
            name: m.name.into(),
            seed,
            host: m.host.into(),
            zone: m.zone,
            start: m.start,
            grid: &grid,
        },
        services,
        objects_after,
        &mut rng,
    );
    spec.id_process = m.id_process;
    spec.elapsed_time = m.elapsed_time;
    spec.into_generated()
}

fn at(y: i32, mo: u32, d: u32, h: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, mo, d)
        .and_then(|d| d.and_hms_opt(h, 0, 0))
        .unwrap_or_default()
}

fn leak(pb_slope_mb: f64, hc_slope: f64) -> Recipe {
    Recipe {
        pb_slope: Some(pb_slope_mb * MB),
        hc_slope: Some(hc_slope),
        leaks: Some((pb_slope_mb > 0.0, hc_slope > 0.0)),
        companions: true,
        ..Recipe::default()
    }
}

fn warm(tau_frac: f64) -> Recipe {
    Recipe {
        warm_up_tau_frac: Some(tau_frac),
        ..Recipe::default()
    }
}

/// The five samples; `seed` 1 gives the committed files.
pub fn sample_logs(seed: u64) -> Vec<GeneratedLog> {
    use Family::*;
    let s = |k: u64| seed.wrapping_mul(1000).wrapping_add(k);
    vec![
        build(
            s(1),
            Machine {
                name: "healthy-server",
                host: "FS-CONTOSO-01",
                zone: ("Pacific Standard Time", 480),
                start: at(2025, 11, 3, 6),
                interval_seconds: 600.0,
                hours: 72.0,
                id_process: true,
                elapsed_time: false,
            },
            vec![
                p("System", Flat, 0.2, 2400.0),
                p("Registry", Flat, 5.0, 0.0 + 100.0),
                p("smss", Flat, 0.5, 53.0),
                p("csrss", Flat, 2.1, 480.0),
                p("wininit", Flat, 1.4, 160.0),
                p("services", Flat, 6.5, 720.0),
                p("lsass", DailyCycle, 11.0, 1450.0),
                p("svchost", Flat, 9.0, 820.0),
                p("svchost", Sawtooth, 24.0, 1300.0),
                p("svchost", DailyCycle, 15.0, 540.0),
                p("svchost", Flat, 4.2, 210.0),
                p("spoolsv", Flat, 6.0, 430.0),
                p("MsMpEng", Sawtooth, 210.0, 900.0),
                p("sqlservr", WarmUp, 950.0, 1100.0).with(warm(0.05)),
                p("w3wp", DailyCycle, 320.0, 1650.0),
                p("WmiPrvSE", Sawtooth, 18.0, 380.0),
                p("dllhost", Flat, 3.5, 190.0),
                p("vmtoolsd", Flat, 8.5, 290.0),
                p("explorer", DailyCycle, 40.0, 1900.0),
                p("java", WarmUp, 600.0, 300.0).with(warm(0.08)),
            ],
            &[
                Traffic {
                    object: "Server",
                    instance: None,
                    counter: "Sessions Open",
                    peak: 140.0,
                },
                Traffic {
                    object: "Web Service",
                    instance: Some("_Total"),
                    counter: "Current Connections",
                    peak: 220.0,
                },
            ],
        ),
        build(
            s(2),
            Machine {
                name: "winlogon-smtp-leak",
                host: "NTSRV01",
                zone: ("Eastern Standard Time", 300),
                start: at(1999, 3, 1, 8),
                interval_seconds: 300.0,
                hours: 72.0,
                id_process: true,
                elapsed_time: false,
            },
            vec![
                p("System", Flat, 0.04, 180.0),
                p("smss", Flat, 0.2, 30.0),
                p("csrss", Flat, 1.2, 250.0),
                p("winlogon", LinearLeak, 3.0, 450.0).with(leak(0.06, 40.0)),
                p("services", Flat, 1.5, 300.0),
                p("lsass", DailyCycle, 2.4, 220.0),
                p("spoolss", Flat, 1.8, 110.0),
                p("rpcss", Flat, 1.1, 160.0),
                p("llssrv", Flat, 0.9, 70.0),
                p("inetinfo", DailyCycle, 6.0, 400.0).with(Recipe {
                    companions: true,
                    ..Recipe::default()
                }),
                p("msdtc", Flat, 1.3, 120.0),
                p("nddeagnt", Flat, 0.3, 40.0),
                p("explorer", Flat, 2.0, 120.0),
                p("tapisrv", Flat, 0.6, 80.0),
            ],
            &[
                Traffic {
                    object: "SMTP Server",
                    instance: None,
                    counter: "Messages Delivered Total",
                    peak: 900.0,
                },
                Traffic {
                    object: "SMTP Server",
                    instance: None,
                    counter: "Inbound Connections Current",
                    peak: 12.0,
                },
                Traffic {
                    object: "SMTP Server",
                    instance: None,
                    counter: "Bytes Sent Total",
                    peak: 2.0e6,
                },
            ],
        ),
        build(
            s(3),
            Machine {
                name: "exchange-async-leak",
                host: "EXCH01",
                zone: ("Pacific Standard Time", 480),
                start: at(2001, 5, 14, 9),
                interval_seconds: 600.0,
                hours: 96.0,
                id_process: true,
                elapsed_time: true,
            },
            vec![
                p("System", Flat, 0.03, 190.0),
                p("smss", Flat, 0.3, 33.0),
                p("csrss", Flat, 1.4, 290.0),
                p("winlogon", Flat, 2.6, 430.0),
                p("services", Flat, 2.2, 340.0),
                p("lsass", DailyCycle, 3.1, 310.0),
                p("svchost", Flat, 1.3, 140.0),
                p("svchost", Flat, 2.5, 260.0),
                p("spoolsv", Flat, 2.7, 150.0),
                p("msdtc", Flat, 1.5, 130.0),
                p("inetinfo", DailyCycle, 9.0, 520.0),
                p("dsamain", Flat, 38.0, 610.0),
                p("store", DailyCycle, 310.0, 1400.0),
                p("emsmta", Flat, 21.0, 380.0),
                p("mad", Flat, 12.0, 290.0),
                p("async", LinearLeak, 6.0, 180.0).with(leak(1.2, 0.0)),
            ],
            &[
                Traffic {
                    object: "MSExchangeMSMI",
                    instance: None,
                    counter: "Messages Sent",
                    peak: 60.0,
                },
                Traffic {
                    object: "MSExchangeMSMI",
                    instance: None,
                    counter: "Messages Received",
                    peak: 75.0,
                },
                Traffic {
                    object: "MSExchangePCMTA",
                    instance: None,
                    counter: "Messages Sent",
                    peak: 40.0,
                },
                Traffic {
                    object: "MSExchangePCMTA",
                    instance: None,
                    counter: "Messages Received",
                    peak: 45.0,
                },
            ],
        ),
        build(
            s(4),
            Machine {
                name: "thirdparty-leak",
                host: "APP-PROD-07",
                zone: ("W. Europe Standard Time", -60),
                start: at(2025, 10, 6, 0),
                interval_seconds: 600.0,
                hours: 72.0,
                id_process: true,
                elapsed_time: false,
            },
            vec![
                p("System", Flat, 0.2, 2900.0),
                p("Registry", Flat, 6.0, 100.0),
                p("smss", Flat, 0.5, 53.0),
                p("csrss", Flat, 2.0, 510.0),
                p("wininit", Flat, 1.4, 160.0),
                p("services", Flat, 6.8, 760.0),
                p("lsass", DailyCycle, 12.0, 1500.0),
                p("svchost", Flat, 9.5, 850.0),
                p("svchost", Sawtooth, 22.0, 1250.0),
                p("svchost", Flat, 4.0, 220.0),
                p("MsMpEng", Sawtooth, 230.0, 950.0),
                p("w3wp", DailyCycle, 280.0, 1500.0),
                p("sqlservr", Flat, 1200.0, 1300.0),
                p("WmiPrvSE", Sawtooth, 17.0, 360.0),
                p("vmtoolsd", Flat, 9.0, 300.0),
                p("acmesyncd", LinearLeak, 45.0, 800.0).with(leak(2.5, 35.0)),
            ],
            &[Traffic {
                object: "Web Service",
                instance: Some("_Total"),
                counter: "Current Connections",
                peak: 300.0,
            }],
        ),
        build(
            s(5),
            Machine {
                name: "restart-leak",
                host: "WEB02",
                zone: ("Eastern Standard Time", 300),
                start: at(2025, 9, 15, 0),
                interval_seconds: 300.0,
                hours: 72.0,
                id_process: true,
                elapsed_time: true,
            },
            vec![
                p("System", Flat, 0.2, 2600.0),
                p("smss", Flat, 0.5, 53.0),
                p("csrss", Flat, 2.0, 470.0),
                p("services", Flat, 6.5, 700.0),
                p("lsass", Flat, 11.0, 1400.0),
                p("svchost", Flat, 9.0, 800.0),
                p("svchost", Flat, 14.0, 600.0),
                p("MsMpEng", Sawtooth, 200.0, 900.0),
                // IIS recycles an app pool every 1,740 minutes (29 h) by default.
                p("w3wp", RestartLeak, 180.0, 900.0).with(Recipe {
                    restarts_at: Some(vec![10.0, 39.0, 68.0]),
                    age_hours: Some(5.0),
                    ..leak(12.0, 20.0)
                }),
                p("w3wp", Flat, 140.0, 700.0).with(Recipe {
                    age_hours: Some(2.0),
                    companions: true,
                    ..Recipe::default()
                }),
                p("vmtoolsd", Flat, 9.0, 300.0),
            ],
            &[Traffic {
                object: "Web Service",
                instance: Some("_Total"),
                counter: "Current Connections",
                peak: 450.0,
            }],
        ),
    ]
}
