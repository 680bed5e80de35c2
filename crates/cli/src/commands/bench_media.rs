//! `samizdat bench media`: what pictures cost.
//!
//! - Decoding a 12-megapixel JPEG (4000 × 3000, as a phone takes it) within
//!   the default caps: time, and the process's peak memory growth (the
//!   kernel's high-water mark, reset before each decode), scaled for a
//!   card (2048) and for the desktop's viewer (1600), and at full size.
//! - A decompression bomb (a PNG declaring 100,000 × 100,000): time to refuse.
//! - Stripping metadata from that photo (no re-encoding).
//! - The picture cache after N pictures (1,000 by default) loaded through a
//!   real Blossom server (our relay on 127.0.0.1), each hash-checked:
//!   files and bytes kept, time per load, and again with a small limit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use nostr::prelude::*;
use samizdat_client::media::{Caps, MediaRef};
use samizdat_client::{LocalSigner, Session, SessionConfig, Settings};
use samizdat_media::BlobHash;
use samizdat_net::blossom::{self, BlossomServer};
use serde_json::json;

use super::bench::proc_status_mib;

/// `samizdat bench media` arguments.
#[derive(clap::Args)]
pub struct MediaBenchArgs {
    /// Pictures loaded into the cache.
    #[arg(long, default_value_t = 1_000)]
    pictures: usize,
    /// Width × height of each cached picture (a noisy JPEG).
    #[arg(long, default_value_t = 800)]
    width: u32,
    /// Height of each cached picture.
    #[arg(long, default_value_t = 600)]
    height: u32,
    /// Decodes of the 12-megapixel JPEG per variant (the median is shown).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

/// Resets the kernel's peak-RSS mark for this process (Linux ≥ 4.0).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Median time and peak growth (MiB) of `runs` decodes within `caps`.
fn decode_figures(jpeg: &[u8], caps: &Caps, runs: usize) -> anyhow::Result<(f64, f64, (u32, u32))> {
    let mut times = Vec::new();
    let mut peak: f64 = 0.0;
    let mut shown = (0, 0);
    for _ in 0..runs.max(1) {
        reset_peak();
        let before = proc_status_mib("VmRSS");
        let started = Instant::now();
        let decoded = samizdat_media::decode(jpeg, caps)?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        peak = peak.max(proc_status_mib("VmHWM") - before);
        shown = decoded.shown;
        drop(decoded);
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], peak, shown))
}

/// Runs the benchmark.
pub async fn run(args: MediaBenchArgs) -> anyhow::Result<()> {
    let photo =
        tokio::task::spawn_blocking(|| samizdat_media::samples::photo_jpeg_with_gps(4000, 3000))
            .await?;
    let mut decoding = Vec::new();
    for (name, caps) in [
        ("card (2048)", Caps::default()),
        (
            "viewer (1600, first frame)",
            Caps {
                max_side: 1600,
                max_frames: 1,
                ..Caps::default()
            },
        ),
        (
            "full size",
            Caps {
                max_side: 16_384,
                ..Caps::default()
            },
        ),
    ] {
        let (ms, peak, shown) = decode_figures(&photo, &caps, args.runs)?;
        decoding.push(json!({"variant": name, "median_ms": ms, "peak_growth_mib": peak, "shown": [shown.0, shown.1]}));
    }
    let bomb = samizdat_media::samples::png_bomb(100_000, 100_000);
    let started = Instant::now();
    let refused = samizdat_media::decode(&bomb, &Caps::default()).is_err();
    let bomb_us = started.elapsed().as_secs_f64() * 1e6;
    let started = Instant::now();
    let stripped = samizdat_media::strip_metadata(&photo)?;
    let strip_ms = started.elapsed().as_secs_f64() * 1000.0;

    let cache = cache_figures(&args).await?;
    let report = json!({
        "photo": {"width": 4000, "height": 3000, "bytes": photo.len()},
        "decode": decoding,
        "bomb": {"refused": refused, "bytes": bomb.len(), "microseconds": bomb_us},
        "strip": {"ms": strip_ms, "removed": stripped.removed, "bytes_after": stripped.bytes.len()},
        "cache": cache,
    });
    if args.json {
        println!("{report}");
        return Ok(());
    }
    println!(
        "12-megapixel JPEG ({} KiB), median of {} decodes:",
        photo.len() / 1024,
        args.runs
    );
    for d in &decoding {
        println!(
            "  {:<28} {:>7.0} ms, peak memory +{:.0} MiB, {}×{} pixels kept",
            d["variant"].as_str().unwrap_or(""),
            d["median_ms"].as_f64().unwrap_or(0.0),
            d["peak_growth_mib"].as_f64().unwrap_or(0.0),
            d["shown"][0],
            d["shown"][1]
        );
    }
    println!(
        "bomb ({} bytes declaring 100000×100000): refused={refused} in {bomb_us:.0} µs",
        bomb.len()
    );
    println!(
        "stripping EXIF/GPS from the photo: {strip_ms:.1} ms (removed {:?})",
        stripped.removed
    );
    let c = &report["cache"];
    println!(
        "cache after {} pictures of {}×{} ({:.0} KiB each on average), loaded through our relay's Blossom server:",
        args.pictures,
        args.width,
        args.height,
        c["average_kib"].as_f64().unwrap_or(0.0)
    );
    println!(
        "  default limit ({} MiB): {} files, {:.1} MiB; {:.1} ms per load (fetch + hash check + probe + cache)",
        c["default_limit_mib"], c["files"], c["mib"].as_f64().unwrap_or(0.0), c["ms_per_load"].as_f64().unwrap_or(0.0)
    );
    println!(
        "  limit {} MiB: {} files, {:.1} MiB kept ({} evicted)",
        c["small_limit_mib"],
        c["small_files"],
        c["small_mib"].as_f64().unwrap_or(0.0),
        c["evicted"]
    );
    Ok(())
}

/// Uploads N pictures to our relay and loads each through a session.
async fn cache_figures(args: &MediaBenchArgs) -> anyhow::Result<serde_json::Value> {
    let dir = tempfile::tempdir()?;
    let author = Keys::generate();
    let store = Arc::new(samizdat_store::Store::open(
        dir.path().join("relay.sqlite"),
    )?);
    let config = samizdat_relay::RelayConfig {
        media: samizdat_relay::MediaConfig {
            public_uploads: true,
            quota_mib: 1 << 20,
            ..samizdat_relay::MediaConfig::in_dir(dir.path().join("blobs"))
        },
        ..Default::default()
    };
    let relay = samizdat_relay::start(config, store, "127.0.0.1:0".parse()?).await?;
    let server = BlossomServer::parse(&format!("http://{}", relay.local_addr()))?;
    let net = samizdat_net::TransportConfig::default();
    let (w, h, n) = (args.width, args.height, args.pictures);
    let pictures = tokio::task::spawn_blocking(move || {
        (0..n)
            .map(|i| samizdat_media::samples::noisy_jpeg(w, h, i as u64 + 1))
            .collect::<Vec<_>>()
    })
    .await?;
    let total: usize = pictures.iter().map(Vec::len).sum();
    let mut refs = Vec::new();
    for bytes in pictures {
        let hash = BlobHash::of(&bytes);
        let d = blossom::upload_signed(
            &server,
            &author,
            bytes,
            "image/jpeg",
            &net,
            Duration::from_secs(30),
        )
        .await?;
        refs.push(MediaRef {
            url: d.url,
            hash: Some(hash),
            ..Default::default()
        });
    }
    let home = dir.path().join("profile");
    std::fs::create_dir_all(&home)?;
    Settings::default().save(&home.join("settings.json"))?;
    let session = Session::with_store(
        Arc::new(samizdat_store::Store::open(home.join("events.sqlite"))?),
        home.join("settings.json"),
        Arc::new(LocalSigner::new(Keys::generate())),
        SessionConfig::default(),
    )?;
    let default_limit = session.media_settings().cache_mib;
    let started = Instant::now();
    for r in &refs {
        session.load_media(&author.public_key(), r, true).await?;
    }
    let per_load = started.elapsed().as_secs_f64() * 1000.0 / refs.len().max(1) as f64;
    let stats = session.media_cache().evict();
    let small = 32;
    let trimmed = session.set_media_cache_mib(small)?;
    session.shutdown().await;
    relay.shutdown().await;
    Ok(json!({
        "average_kib": total as f64 / 1024.0 / refs.len().max(1) as f64,
        "default_limit_mib": default_limit,
        "files": stats.files,
        "mib": stats.bytes as f64 / 1048576.0,
        "ms_per_load": per_load,
        "small_limit_mib": small,
        "small_files": trimmed.files,
        "small_mib": trimmed.bytes as f64 / 1048576.0,
        "evicted": trimmed.evicted,
    }))
}
