//! Samizdat's AppImage runtime: the ELF at the front of the AppImage.
//!
//! An AppImage (type 2) is a runtime executable with a squashfs image of
//! the application folder appended; the standard runtime mounts the image
//! with FUSE. Every builder downloads that runtime from GitHub, so this one
//! is ours. It does what the standard runtime does with
//! `--appimage-extract-and-run`, which also works where FUSE does not (in
//! containers): the image is extracted once into
//! `$XDG_CACHE_HOME/samizdat-appimage/<size>-<mtime>/` (kept, so later
//! starts are immediate), then `AppRun` runs there with `APPIMAGE`,
//! `APPDIR` and `ARGV0` set, as the standard runtime sets them.
//!
//! Also as the standard runtime: `--appimage-offset` prints where the image
//! starts, `--appimage-extract` extracts it to `./squashfs-root`.

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use backhand::{FilesystemReader, InnerNode};

/// Where the appended image starts: the end of the ELF, i.e. the end of its
/// section header table (the runtime is linked with it last).
fn elf_end(file: &mut File) -> Result<u64, String> {
    let mut header = [0u8; 64];
    file.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
    file.read_exact(&mut header)
        .map_err(|e| format!("reading the ELF header: {e}"))?;
    if &header[..4] != b"\x7fELF" || header[4] != 2 || header[5] != 1 {
        return Err("not a 64-bit little-endian ELF".into());
    }
    let u64_at = |i: usize| u64::from_le_bytes(header[i..i + 8].try_into().unwrap_or([0; 8]));
    let u16_at = |i: usize| u64::from(u16::from_le_bytes([header[i], header[i + 1]]));
    let section_headers = u64_at(0x28);
    let entry_size = u16_at(0x3A);
    let entries = u16_at(0x3C);
    Ok(section_headers + entry_size * entries)
}

/// Extracts the image in `appimage` (at `offset`) into `target`.
fn extract(appimage: &Path, offset: u64, target: &Path) -> Result<(), String> {
    let file = File::open(appimage).map_err(|e| format!("{}: {e}", appimage.display()))?;
    let fs = FilesystemReader::from_reader_with_offset(BufReader::new(file), offset)
        .map_err(|e| format!("the image in {} is not readable: {e}", appimage.display()))?;
    std::fs::create_dir_all(target).map_err(|e| format!("{}: {e}", target.display()))?;
    for node in fs.files() {
        let relative = node.fullpath.strip_prefix("/").unwrap_or(&node.fullpath);
        // Refuse paths that climb out of the folder.
        if relative
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            continue;
        }
        let path = target.join(relative);
        let mode = u32::from(node.header.permissions) & 0o7777;
        match &node.inner {
            InnerNode::Dir(_) => {
                std::fs::create_dir_all(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            }
            InnerNode::File(f) => {
                let mut out =
                    File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                std::io::copy(&mut fs.file(f).reader(), &mut out)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            }
            InnerNode::Symlink(link) => {
                let _ = std::fs::remove_file(&path);
                symlink(&link.link, &path).map_err(|e| format!("{}: {e}", path.display()))?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// The folder this image extracts to, named by its size and modification
/// time (a new build gets a new folder).
fn cache_dir(appimage: &Path) -> Result<PathBuf, String> {
    let meta = std::fs::metadata(appimage).map_err(|e| e.to_string())?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    Ok(base
        .join("samizdat-appimage")
        .join(format!("{}-{mtime}", meta.len())))
}

fn run() -> Result<ExitCode, String> {
    let appimage = std::fs::read_link("/proc/self/exe")
        .map_err(|e| format!("cannot find this AppImage: {e}"))?;
    let mut file = File::open(&appimage).map_err(|e| format!("{}: {e}", appimage.display()))?;
    let offset = elf_end(&mut file)?;
    let mut args: Vec<OsString> = std::env::args_os().collect();
    let argv0 = args.first().cloned().unwrap_or_default();
    args.remove(0);
    match args.first().and_then(|a| a.to_str()) {
        Some("--appimage-offset") => {
            println!("{offset}");
            return Ok(ExitCode::SUCCESS);
        }
        Some("--appimage-extract") => {
            extract(&appimage, offset, Path::new("squashfs-root"))?;
            println!("squashfs-root");
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let dir = cache_dir(&appimage)?;
    let done = dir.join(".extracted");
    if !done.exists() {
        // Extract beside, then rename: a start that is interrupted never
        // leaves a half folder that looks complete.
        let partial = dir.with_extension(format!("partial-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&partial);
        extract(&appimage, offset, &partial)?;
        std::fs::write(partial.join(".extracted"), b"").map_err(|e| e.to_string())?;
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::rename(&partial, &dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let error = Command::new(dir.join("AppRun"))
        .args(&args)
        .env("APPIMAGE", &appimage)
        .env("APPDIR", &dir)
        .env("ARGV0", &argv0)
        .exec();
    Err(format!(
        "cannot run {}: {error}",
        dir.join("AppRun").display()
    ))
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("samizdat AppImage: {e}");
            ExitCode::from(127)
        }
    }
}
