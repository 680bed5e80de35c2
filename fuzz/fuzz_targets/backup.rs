#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| samizdat_fuzzing::backup(data));
