//! `evalgap`: the command line. Thin by design: it parses flags, builds the pieces from the
//! library crates, and maps errors to exit codes (0 done, 1 error, 2 usage error, 130 interrupted).

mod args;
mod commands;

use clap::Parser;
use std::process::ExitCode;

// A run allocates and frees many small strings on every core (variants, requests, records);
// mimalloc does that for a fraction of the system allocator's CPU.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in the option enum of the mimalloc the `mimalloc` crate builds (v3,
/// `include/mimalloc.h`); libmimalloc-sys names no constant for it.
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
    fn mi_collect(force: bool);
    #[cfg(test)]
    fn mi_option_get(option: std::ffi::c_int) -> std::ffi::c_long;
}

/// Hands the memory a run freed back to the system, and from now on frees at once; called when a
/// run has recorded its last trial (`RunOptions::after_sending`).
///
/// While trials are sent, mimalloc keeps a freed page for its default delay (1 s) before handing
/// it back, so pages emptied and refilled many times a second are neither unmapped nor faulted in
/// again each time (with no delay, that churn took about 5% of a 10,000-variant run's CPU). The
/// closing report then allocates on other threads: without this, it would take fresh pages while
/// the freed ones wait out their delay, and the peak would grow with the run's size.
pub(crate) fn release_freed_memory() {
    // SAFETY: sets a process-wide allocator option and asks mimalloc to collect; neither touches
    // memory the program owns.
    unsafe {
        mi_option_set(MI_OPTION_PURGE_DELAY, 0);
        mi_collect(true);
    }
}

fn main() -> ExitCode {
    // No transparent huge pages for this process: mimalloc asks for them on its heap, and then a
    // run's resident memory and its kernel time (zeroing 2 MiB pages) grow for no gain at this
    // heap's size. (mimalloc reads its own option before `main`, so the kernel is asked instead.)
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_THP_DISABLE takes integer arguments and touches no memory.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    let cli = args::Cli::parse(); // exits 2 on a usage error, 0 on --help/--version
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_purge_delay_index_names_the_purge_delay() {
        // mimalloc's default purge delay is 1000 ms (`src/options.c`); none of the options beside
        // it in the enum has that default, so a shifted enum fails here rather than tuning another.
        // SAFETY: reads a process-wide allocator option.
        assert_eq!(unsafe { super::mi_option_get(super::MI_OPTION_PURGE_DELAY) }, 1000);
    }
}
