//! `samizdat-desktop`: the desktop app. `--demo` runs it on the seeded demo
//! network on 127.0.0.1 (no internet needed); `--bench` measures it.

use std::path::PathBuf;

use samizdat_desktop::bench::BenchConfig;
use samizdat_desktop::{AppOptions, DesktopApp, WorkerConfig};

const USAGE: &str =
    "samizdat-desktop [--demo [--keep-demo]] [--home DIR] [--bench [--bench-notes N] [--bench-frames N]]

  --demo          run on the seeded demo network (relays on 127.0.0.1)
  --keep-demo     keep the demo profile in DIR/demo-profile, so a second run starts warm
  --home DIR      where profiles live (default: $SAMIZDAT_HOME or the platform data dir)
  --bench         with --demo: time to first feed, then scroll N notes and print frame times
  --bench-fill N  with --demo --keep-demo: fill the demo store to N events before it opens
  --log-n N       scrypt cost for new keys (default 18)";

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut args = std::env::args().skip(1);
    let mut demo = false;
    let mut bench: Option<BenchConfig> = None;
    let mut home: Option<PathBuf> = None;
    let mut keep_demo = false;
    let mut log_n = samizdat_client::keystore::DEFAULT_LOG_N;
    let mut bench_fill = 0usize;
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| anyhow::anyhow!("{name} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--demo" => demo = true,
            "--keep-demo" => keep_demo = true,
            "--bench" => bench = Some(bench.unwrap_or_default()),
            "--bench-notes" => {
                bench.get_or_insert_with(Default::default).notes = value(&arg)?.parse()?
            }
            "--bench-frames" => {
                bench.get_or_insert_with(Default::default).frames = value(&arg)?.parse()?
            }
            "--home" => home = Some(PathBuf::from(value(&arg)?)),
            "--bench-fill" => bench_fill = value(&arg)?.parse()?,
            "--log-n" => log_n = value(&arg)?.parse()?,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => anyhow::bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    if bench.is_some() {
        demo = true;
    }
    let home = match home {
        Some(h) => h,
        None => samizdat_client::Profiles::from_env()?.home().to_path_buf(),
    };
    let mut worker = WorkerConfig::new(home.clone());
    if keep_demo {
        worker.demo_dir = Some(home.join("demo-profile"));
    }
    worker.log_n = log_n;
    worker.bench_fill = bench_fill;
    let options = AppOptions {
        worker,
        demo,
        bench,
    };
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Samizdat")
            .with_inner_size([980.0, 760.0]),
        renderer: eframe::Renderer::Glow,
        vsync: false,
        ..Default::default()
    };
    eframe::run_native(
        "Samizdat",
        native,
        Box::new(move |_cc| Ok(Box::new(DesktopApp::new(options)))),
    )
    .map_err(|e| anyhow::anyhow!("the window could not be opened: {e}"))
}
