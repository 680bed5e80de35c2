//! Keeping secrets inside the process. Once a key is unlocked (decrypted,
//! imported, or handed to a [`crate::LocalSigner`]), the process makes no
//! core dump: `prctl(PR_SET_DUMPABLE, 0)` on Linux (which also stops other
//! processes of the same user from attaching a debugger or reading its
//! memory through `/proc`) and a core-size limit of 0 on every Unix. It stays
//! so for the rest of the process's life: a key once in memory may linger in
//! freed pages.

use std::sync::Once;

/// Turns core dumps off for this process (once; later calls do nothing).
pub fn no_core_dumps() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        #[cfg(target_os = "linux")]
        // SAFETY: prctl with PR_SET_DUMPABLE takes plain integers and only
        // changes this process's dumpable flag.
        let set = unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
        #[cfg(not(target_os = "linux"))]
        let set = 0;
        #[cfg(unix)]
        let limited = {
            let zero = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: setrlimit reads the struct we pass and changes only
            // this process's limit.
            unsafe { libc::setrlimit(libc::RLIMIT_CORE, &zero) }
        };
        #[cfg(not(unix))]
        let limited = 0;
        if set != 0 || limited != 0 {
            tracing::warn!(
                error = %std::io::Error::last_os_error(),
                "could not turn core dumps off; a crash could write the unlocked key to disk"
            );
        }
    });
}

/// Whether the process may still dump core (`None` where it cannot be told).
pub fn dumpable() -> Option<bool> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: PR_GET_DUMPABLE takes no pointers and returns the flag.
        let flag = unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) };
        if flag < 0 {
            return None;
        }
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct we own.
        let got = unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut limit) };
        Some(flag != 0 || got != 0 || limit.rlim_cur != 0)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}
