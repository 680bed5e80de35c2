#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| samizdat_fuzzing::nip19(data));
