// How many 256-bit AES rounds and carry-less multiplications one core issues per second, alone
// and mixed: the ceiling of the page cipher on this CPU (bench-crypto prints it). x86-64 with
// VAES and VPCLMULQDQ only.
#pragma once

namespace criu::bench {

struct UnitRates {
	double aes;        // VAESDEC ymm per second
	double clmul;      // VPCLMULQDQ ymm per second
	double mix;        // bytes per second through both at the page cipher's mix (14 : 3)
};

// Best of rounds runs of 10-150 ms each; thread CPU time.
UnitRates measure_unit_rates(int rounds);

} // namespace criu::bench
