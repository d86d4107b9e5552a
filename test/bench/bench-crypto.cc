// Per-core throughput of crypto/: the page cipher (XTS, tags, seal, open) on 4 KiB pages and the
// sealed records under protobuf images and raw streams. Prints a table; asserts nothing.
//
//   bench-crypto [rounds]      (default 5; best and median of the rounds are shown)
//
// Single-threaded and timed in thread CPU time, so every number is per core. GB = 10^9 bytes.
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "crypto/keyring.h"
#include "crypto/page-cipher.h"
#include "crypto/record.h"
#include "keys.h"
#include "page-tag.h"
#include "test-dirs.h"
#include "unit-rates.h"

using namespace criu;
using namespace criu::crypto;

namespace {

constexpr size_t kBufBytes = 256u << 20;
constexpr size_t kHotBytes = 128u << 10; // with the buffer opened into, fits a core's L2 cache
constexpr size_t kBatchPages = 64;
constexpr size_t kEntrySize = 200;
constexpr size_t kEntries = 200000;
constexpr double kPageTarget = 2.5; // GB/s per core, PageCipher seal and open

int g_rounds = 5;

// Page buffers are page-aligned, as dump's and restore's are: two malloc'd buffers one after the
// other lie 16 bytes apart modulo 4 KiB, and between such buffers REP MOVSB (glibc's memcpy at
// these sizes) runs at a twentieth of its speed on AMD Zen 3.
template <typename T> struct PageAligned {
	using value_type = T;
	PageAligned() = default;
	template <typename U> PageAligned(const PageAligned<U> &) {}
	T *allocate(size_t n)
	{
		size_t bytes = (n * sizeof(T) + kPageSize - 1) / kPageSize * kPageSize;
		void *p = aligned_alloc(kPageSize, bytes);
		if (!p)
			throw std::bad_alloc();
		return static_cast<T *>(p);
	}
	void deallocate(T *p, size_t) { free(p); }
	bool operator==(const PageAligned &) const { return true; }
};
using PageBytes = std::vector<uint8_t, PageAligned<uint8_t>>;

template <typename T> T must(Result<T> r, const char *what)
{
	if (!r) {
		fmt::print(stderr, "bench-crypto: {}: {}\n", what, r.error().describe());
		exit(1);
	}
	if constexpr (!std::is_void_v<T>)
		return std::move(*r);
}

double thread_cpu_seconds()
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// CPU time of this thread, one sample per round: per-core cost, even when other processes
// compete for the machine's cores (they still share caches and SMT siblings, so a busy machine
// reads lower).
struct Timer {
	std::vector<double> seconds;
	template <typename F> void timed(F &&f)
	{
		double t0 = thread_cpu_seconds();
		f();
		seconds.push_back(thread_cpu_seconds() - t0);
	}
	double best() const { return *std::min_element(seconds.begin(), seconds.end()); }
	double median() const
	{
		auto s = seconds;
		std::sort(s.begin(), s.end());
		return s[s.size() / 2];
	}
};

void header(std::string_view title)
{
	fmt::print("\n{}\n{:<44} {:>12} {:>12}   {}\n", title, "operation", "best", "median", "target");
}

void row_gbps(const std::string &name, const Timer &t, double bytes, double target = 0)
{
	double best = bytes / t.best() / 1e9, med = bytes / t.median() / 1e9;
	std::string verdict;
	if (target > 0) {
		const char *ok = med >= target ? "ok" : best >= target ? "ok (best only)" : "BELOW";
		verdict = fmt::format("{:.1f} GB/s  {}", target, ok);
	}
	fmt::print("{:<44} {:>7.2f} GB/s {:>7.2f} GB/s   {}\n", name, best, med, verdict);
}

void row_entries(const std::string &name, const Timer &t, double n)
{
	fmt::print("{:<44} {:>7.3f} us   {:>7.3f} us     {:.2f} M entries/s (median)\n", name, t.best() / n * 1e6,
		   t.median() / n * 1e6, n / t.median() / 1e6);
}

std::string cpu_model()
{
	std::ifstream f("/proc/cpuinfo");
	std::string line;
	while (std::getline(f, line))
		if (line.rfind("model name", 0) == 0)
			return line.substr(line.find(':') + 2);
	return "unknown CPU";
}

// A throwaway RSA key and self-signed certificate in dir; returns the certificate's path.
std::string make_cert(const test::TempDir &dir)
{
	std::string key = dir / "key.pem", cert = dir / "cert.pem", tmpl = dir / "cert.tmpl";
	std::ofstream(tmpl) << "cn = \"criu bench\"\nexpiration_days = 1\nencryption_key\n";
	std::string out;
	std::string cmd = "(certtool --generate-privkey --rsa --bits 2048 --outfile '" + key +
			  "' && certtool --generate-self-signed --load-privkey '" + key + "' --template '" + tmpl +
			  "' --outfile '" + cert + "')";
	if (test::run_command(cmd, &out) != 0) {
		fmt::print(stderr, "bench-crypto: certtool failed:\n{}", out);
		exit(1);
	}
	return cert;
}

std::array<uint8_t, 16> tweak(uint32_t id, uint64_t page)
{
	std::array<uint8_t, 16> t{};
	for (int i = 0; i < 8; i++)
		t[i] = uint8_t(page >> (8 * i));
	for (int i = 0; i < 4; i++)
		t[8 + i] = uint8_t(id >> (8 * i));
	return t;
}

// Runs f(first_page, pages, tags) over the buffer in batches of kBatchPages, passes times.
void batches(PageBytes &buf, std::vector<uint8_t> &tags, size_t passes,
	     const std::function<void(uint64_t, std::span<uint8_t>, std::span<uint8_t>)> &f)
{
	size_t npages = buf.size() / kPageSize;
	for (size_t pass = 0; pass < passes; pass++)
	for (size_t first = 0; first < npages; first += kBatchPages) {
		size_t n = std::min(kBatchPages, npages - first);
		f(first, std::span(buf).subspan(first * kPageSize, n * kPageSize),
		  std::span(tags).subspan(first * kPageTagSize, n * kPageTagSize));
	}
}

// The page cipher of impl over kBufBytes: one pass over a buffer that size (memory-bound, as when
// dumping), or passes over a small one that stays in the core's cache (as when restoring: each
// chunk is read, verified and decrypted while in cache).
void bench_pages(const Keyring &kr, PageCipherImpl impl, size_t buf_bytes)
{
	const size_t passes = kBufBytes / buf_bytes;
	PageBytes buf(buf_bytes), ref(buf_bytes), opened(buf_bytes);
	for (size_t i = 0; i < buf.size(); i++)
		buf[i] = uint8_t(i * 2654435761u >> 13);
	std::vector<uint8_t> tags(buf_bytes / kPageSize * kPageTagSize);
	const uint32_t id = 1;

	Xts xts = must(Xts::create(kr.keys().xts, impl), "Xts::create");
	PageTag tagger = must(PageTag::create(kr.keys().page_tag, impl), "PageTag::create");
	PageCipher pc = must(PageCipher::create(kr, impl), "PageCipher::create");

	Timer copy, enc, dec, tag, seal, open;
	for (int r = 0; r < g_rounds; r++) {
		copy.timed([&] { batches(buf, tags, passes, [&](uint64_t first, auto pages, auto) {
			memcpy(ref.data() + first * kPageSize, pages.data(), pages.size());
		}); });
		enc.timed([&] { batches(buf, tags, passes, [&](uint64_t first, auto pages, auto) {
			for (size_t i = 0; i < pages.size() / kPageSize; i++)
				must(xts.encrypt(tweak(id, first + i), pages.subspan(i * kPageSize, kPageSize)), "XTS");
		}); });
		dec.timed([&] { batches(buf, tags, passes, [&](uint64_t first, auto pages, auto) {
			for (size_t i = 0; i < pages.size() / kPageSize; i++)
				must(xts.decrypt(tweak(id, first + i), pages.subspan(i * kPageSize, kPageSize)), "XTS");
		}); });
		tag.timed([&] { batches(buf, tags, passes, [&](uint64_t first, auto pages, auto t) {
			for (size_t i = 0; i < pages.size() / kPageSize; i++)
				must(tagger.compute(tweak(id, first + i), pages.data() + i * kPageSize,
						    t.subspan(i * kPageTagSize).template first<kPageTagSize>()),
				     "tag");
		}); });
		// Sealing twice and opening twice would not verify: seal and open take turns per pass.
		double sealing = 0, opening = 0;
		for (size_t pass = 0; pass < passes; pass++) {
			double t0 = thread_cpu_seconds();
			batches(buf, tags, 1, [&](uint64_t first, auto pages, auto t) {
				must(pc.seal(id, first, pages, t), "PageCipher::seal");
			});
			double t1 = thread_cpu_seconds();
			batches(buf, tags, 1, [&](uint64_t first, auto pages, auto t) { // as restore: out of place
				auto into = std::span(opened).subspan(first * kPageSize, pages.size());
				must(pc.open(id, first, std::span<const uint8_t>(pages), t, into), "PageCipher::open");
			});
			sealing += t1 - t0;
			opening += thread_cpu_seconds() - t1;
			buf.swap(opened);
		}
		seal.seconds.push_back(sealing);
		open.seconds.push_back(opening);
	}
	if (buf != ref) {
		fmt::print(stderr, "bench-crypto: pages did not round-trip\n");
		exit(1);
	}

	const char *who = impl == PageCipherImpl::Gnutls ? "GnuTLS" : fastest_page_cipher();
	if (passes == 1)
		header(fmt::format("Pages, {}: {} MiB in batches of {} x 4 KiB pages", who, kBufBytes >> 20, kBatchPages));
	else
		header(fmt::format("Pages, {}: {} KiB in cache, {} times, in batches of {} x 4 KiB pages", who,
				   buf_bytes >> 10, passes, kBatchPages));
	row_gbps("memcpy (reference)", copy, kBufBytes);
	row_gbps("XTS-AES-256 encrypt only", enc, kBufBytes);
	row_gbps("XTS-AES-256 decrypt only", dec, kBufBytes);
	row_gbps("AES-256-GMAC tag only", tag, kBufBytes);
	row_gbps("PageCipher seal (encrypt + tag)", seal, kBufBytes, kPageTarget);
	row_gbps("PageCipher open (out of place)", open, kBufBytes, kPageTarget);
	fmt::print("ratios (median): seal = {:.2f} x XTS encrypt; open = {:.2f} x XTS decrypt; tag share of seal "
		   "{:.0f}%\n",
		   seal.median() / enc.median(), open.median() / dec.median(), 100 * tag.median() / seal.median());
}

const char *alg_name(EntryAlg alg) { return alg == EntryAlg::Aes256Gcm ? "AES-256-GCM" : "ChaCha20-Poly1305"; }

// Seals `records` like the image layer does (copy the plaintext into one reused buffer, seal it
// there), then opens them likewise; returns the seal and open timers. Checks the round trip.
std::pair<Timer, Timer> seal_open(const Keyring &kr, const char *image, RecordType type,
				  const std::vector<std::span<const uint8_t>> &records)
{
	std::vector<Bytes> sealed(records.size());
	Timer seal, open;
	for (int r = 0; r < g_rounds; r++) {
		RecordSealer s = must(RecordSealer::create(kr, image), "RecordSealer::create");
		Bytes buf;
		seal.timed([&] {
			for (auto rec : records) {
				buf.assign(rec.begin(), rec.end());
				must(s.seal(type, buf), "seal");
			}
		});
		// Untimed: keep a sealed copy of each record to open.
		s = must(RecordSealer::create(kr, image), "RecordSealer::create");
		for (size_t i = 0; i < records.size(); i++) {
			sealed[i].assign(records[i].begin(), records[i].end());
			must(s.seal(type, sealed[i]), "seal");
		}
		RecordOpener o = must(RecordOpener::create(kr, image, s.header()), "RecordOpener::create");
		open.timed([&] {
			for (const auto &rec : sealed) {
				buf.assign(rec.begin(), rec.end());
				must(o.open(type, buf), "open");
			}
		});
		if (!std::equal(buf.begin(), buf.end(), records.back().begin(), records.back().end())) {
			fmt::print(stderr, "bench-crypto: records did not round-trip\n");
			exit(1);
		}
	}
	return {seal, open};
}

void bench_records(const Keyring &kr)
{
	const char *alg = alg_name(kr.envelope().entry_alg);
	std::vector<uint8_t> data(kBufBytes);
	for (size_t i = 0; i < data.size(); i++)
		data[i] = uint8_t(i * 40503u >> 7);

	std::vector<std::span<const uint8_t>> entries, chunks;
	for (size_t i = 0; i < kEntries; i++)
		entries.push_back(std::span<const uint8_t>(data).subspan(i * kEntrySize, kEntrySize));
	for (size_t off = 0; off < data.size(); off += kMaxRawChunk)
		chunks.push_back(std::span<const uint8_t>(data).subspan(off, kMaxRawChunk));

	auto [seal_e, open_e] = seal_open(kr, "core-1.img", RecordType::Entry, entries);
	auto [seal_r, open_r] = seal_open(kr, "pipes-data.img", RecordType::Raw, chunks);

	header(fmt::format("Records, {} ({} B entries x {}; {} MiB of 64 KiB raw chunks)", alg, kEntrySize,
			   kEntries, kBufBytes >> 20));
	row_entries(fmt::format("seal {} B entry", kEntrySize), seal_e, kEntries);
	row_entries(fmt::format("open {} B entry", kEntrySize), open_e, kEntries);
	row_gbps("seal 64 KiB raw chunk", seal_r, kBufBytes);
	row_gbps("open 64 KiB raw chunk", open_r, kBufBytes);
}

// The page cipher's ceiling on this core: XTS-AES-256 is 14 AES instructions per 256-bit
// register (two blocks), GHASH 3 carry-less products per register (Karatsuba). Run at that mix,
// the two kinds go as fast as the slower alone if the core's AES units and multiplier work side
// by side, and at the harmonic sum if they share execution ports.
void bench_ceiling()
{
	bench::UnitRates r = bench::measure_unit_rates(g_rounds);
	double xts = r.aes * 32 / 14, ghash = r.clmul * 32 / 3;
	double side = std::min(xts, ghash), shared = 1 / (1 / xts + 1 / ghash);
	fmt::print("\nCeiling of the page cipher on this core (best of {} rounds)\n", g_rounds);
	fmt::print("{:<44} {:>7.2f} G/s\n", "VAESDEC ymm", r.aes / 1e9);
	fmt::print("{:<44} {:>7.2f} G/s\n", "VPCLMULQDQ ymm", r.clmul / 1e9);
	fmt::print("{:<44} {:>7.2f} GB/s\n", "XTS-AES-256 at most", xts / 1e9);
	fmt::print("{:<44} {:>7.2f} GB/s\n", "GHASH at most", ghash / 1e9);
	fmt::print("{:<44} {:>7.2f} GB/s   (side by side {:.2f}, sharing {:.2f}; {:.2f} core-seconds per GiB)\n",
		   "both at the cipher's mix", r.mix / 1e9, side / 1e9, shared / 1e9, double(1u << 30) / r.mix);
}

} // namespace

int main(int argc, char **argv)
{
	if (argc > 1)
		g_rounds = std::max(1, atoi(argv[1]));
	test::TempDir dir;
	fmt::print("bench-crypto: {} round(s), one thread, {}\n", g_rounds, cpu_model());
	std::vector<std::string> certs = {make_cert(dir)};
	Keyring chacha = must(Keyring::create(certs, EntryAlg::Chacha20Poly1305), "Keyring::create");
	Keyring gcm = must(Keyring::create(certs, EntryAlg::Aes256Gcm), "Keyring::create");
	bench_pages(chacha, PageCipherImpl::Gnutls, kBufBytes);
	bench_pages(chacha, PageCipherImpl::Gnutls, kHotBytes);
	if (std::string(fastest_page_cipher()) != "GnuTLS") {
		bench_pages(chacha, PageCipherImpl::Fastest, kBufBytes);
		bench_pages(chacha, PageCipherImpl::Fastest, kHotBytes);
		bench_ceiling();
	}
	bench_records(chacha);
	bench_records(gcm);
	return 0;
}
