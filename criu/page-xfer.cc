#include "page-xfer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/xio.h"
#include "crypto/page-cipher.h"

namespace criu {

namespace {

constexpr size_t kBatchPages = 1024; // 4 MiB
constexpr size_t kSlotsPerWorker = 2;

struct Batch {
	uint64_t first_page = 0; // index in the pages image
	std::vector<PageRun> parts;
	size_t npages = 0;
};

std::vector<Batch> split(const std::vector<PageRun> &runs)
{
	std::vector<Batch> out;
	uint64_t index = 0;
	for (PageRun r : runs) {
		while (r.nr_pages) {
			if (out.empty() || out.back().npages == kBatchPages) {
				out.emplace_back();
				out.back().first_page = index;
			}
			Batch &b = out.back();
			uint64_t n = std::min<uint64_t>(r.nr_pages, kBatchPages - b.npages);
			b.parts.push_back({r.vaddr, n});
			b.npages += n;
			index += n;
			r.vaddr += n * kPageSize;
			r.nr_pages -= n;
		}
	}
	return out;
}

// Reads a batch from the task: one process_vm_readv for all its parts, /proc/PID/mem (opened
// at the first need) for what the task cannot read itself (PROT_NONE and such).
class TaskMemory {
public:
	explicit TaskMemory(pid_t pid) : pid_(pid) {}

	Result<> read(const Batch &b, uint8_t *buf)
	{
		std::vector<struct iovec> remote;
		for (const PageRun &p : b.parts)
			remote.push_back({reinterpret_cast<void *>(p.vaddr), p.nr_pages * kPageSize});
		struct iovec local = {buf, b.npages * kPageSize};
		ssize_t n = process_vm_readv(pid_, &local, 1, remote.data(), remote.size(), 0);
		if (n == ssize_t(local.iov_len))
			return {};
		// Fall back part by part from where it stopped.
		size_t done = n > 0 ? size_t(n) : 0, off = 0;
		for (const PageRun &p : b.parts) {
			size_t len = p.nr_pages * kPageSize;
			if (off + len > done) {
				size_t skip = done > off ? done - off : 0;
				if (!mem_)
					mem_ = TRY(xio::open(fmt::format("/proc/{}/mem", pid_), O_RDONLY));
				size_t got = TRY_CTX(xio::pread_full(mem_.borrow(),
								     xio::as_writable_bytes(buf + off + skip, len - skip),
								     off_t(p.vaddr + skip)),
						     "read memory of {} at {:#x}", pid_, p.vaddr + skip);
				if (got != len - skip)
					return fail(EIO, "short read of memory of {} at {:#x}", pid_, p.vaddr + skip + got);
			}
			off += len;
		}
		return {};
	}

private:
	pid_t pid_;
	UniqueFd mem_;
};

struct Slot {
	uint8_t *pages = nullptr;
	std::vector<uint8_t> tags;
	size_t batch = SIZE_MAX; // which batch it holds, once ready
	bool ready = false;
};

// Shared state of one transfer: slots cycle through batches; workers fill, the caller drains.
class Pipeline {
public:
	Pipeline(std::vector<Batch> batches, size_t nslots, uint8_t *area)
		: batches_(std::move(batches)), slots_(nslots)
	{
		for (size_t i = 0; i < nslots; i++)
			slots_[i].pages = area + i * kBatchPages * kPageSize;
	}

	size_t batches() const { return batches_.size(); }

	void worker(TaskMemory &mem, PageSealer &sealer, const PagesWriter &w)
	{
		for (;;) {
			size_t i;
			Slot *s;
			{
				std::unique_lock lk(mu_);
				if (failed_ || next_ >= batches_.size())
					return;
				i = next_++;
				s = &slots_[i % slots_.size()];
				// the slot is free once the batch before it in this slot has been written
				cv_.wait(lk, [&] { return failed_ || written_ + slots_.size() > i; });
				if (failed_)
					return;
			}
			const Batch &b = batches_[i];
			std::span<uint8_t> pages(s->pages, b.npages * kPageSize);
			s->tags.resize(sealer.sealed() ? b.npages * crypto::kPageTagSize : 0);
			Result<> r = mem.read(b, s->pages);
			if (r)
				r = sealer.seal(b.first_page, pages, s->tags);
			if (r)
				r = w.put(b.first_page, pages);
			std::lock_guard lk(mu_);
			if (!r) {
				fail_with(std::move(r.error()));
			} else {
				s->batch = i;
				s->ready = true;
			}
			cv_.notify_all();
		}
	}

	// Called by the writer: waits for batch i, writes it, frees its slot.
	Result<> drain(size_t i, PagesWriter &w)
	{
		Slot *s = &slots_[i % slots_.size()];
		{
			std::unique_lock lk(mu_);
			cv_.wait(lk, [&] { return failed_ || (s->ready && s->batch == i); });
			if (failed_)
				return std::unexpected(*error_);
		}
		const Batch &b = batches_[i];
		Result<> r = w.commit(b.first_page, b.npages, s->tags);
		std::lock_guard lk(mu_);
		if (!r) {
			fail_with(r.error());
			cv_.notify_all();
			return r;
		}
		s->ready = false;
		written_ = i + 1;
		cv_.notify_all();
		return {};
	}

	void abort(Error e)
	{
		std::lock_guard lk(mu_);
		fail_with(std::move(e));
		cv_.notify_all();
	}

private:
	void fail_with(Error e)
	{
		if (!failed_)
			error_.emplace(std::move(e));
		failed_ = true;
	}

	std::vector<Batch> batches_;
	std::vector<Slot> slots_;
	std::mutex mu_;
	std::condition_variable cv_;
	size_t next_ = 0, written_ = 0;
	bool failed_ = false;
	std::optional<Error> error_;
};

} // namespace

PageBuffers::~PageBuffers()
{
	if (area_)
		munmap(area_, len_);
}

Result<uint8_t *> PageBuffers::get(size_t len)
{
	if (len <= len_)
		return area_;
	void *a = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		return fail_errno("mmap of {} bytes for page batches", len);
	if (area_)
		munmap(area_, len_);
	area_ = static_cast<uint8_t *>(a), len_ = len;
	return area_;
}

Result<uint64_t> transfer_pages(pid_t pid, const std::vector<PageRun> &runs, PagesWriter &w, PageBuffers &buffers,
				unsigned workers)
{
	std::vector<Batch> batches = split(runs);
	workers = unsigned(std::clamp<size_t>(batches.size(), 1, std::max(1u, workers)));
	size_t nslots = std::min(workers * kSlotsPerWorker, std::max<size_t>(batches.size(), 1));
	uint8_t *area = TRY(buffers.get(nslots * kBatchPages * kPageSize));

	Pipeline pl(std::move(batches), nslots, area);
	std::vector<TaskMemory> mems;
	std::vector<PageSealer> sealers;
	for (unsigned i = 0; i < workers; i++) {
		mems.emplace_back(pid);
		sealers.push_back(TRY(w.make_sealer()));
	}
	std::vector<std::jthread> threads;
	if (pl.batches() == 1)
		pl.worker(mems[0], sealers[0], w); // nothing to overlap: no thread
	else
		for (unsigned i = 0; i < workers; i++)
			threads.emplace_back([&pl, &mems, &sealers, &w, i] { pl.worker(mems[i], sealers[i], w); });

	for (size_t i = 0; i < pl.batches(); i++) {
		Result<> r = pl.drain(i, w);
		if (!r) {
			pl.abort(r.error());
			return std::unexpected(r.error());
		}
	}
	threads.clear(); // joins
	uint64_t pages = 0;
	for (PageRun r : runs)
		pages += r.nr_pages;
	return pages;
}

} // namespace criu
