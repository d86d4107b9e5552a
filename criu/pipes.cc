// Pipes, dump and restore (see pipes.h).
#define LOG_PREFIX "pipes: "
#include "pipes.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xio.h"
#include "fdinfo.pb-c.h"
#include "files-reg.h"
#include "pipe-data.pb-c.h"

namespace criu {

namespace {

Result<std::pair<UniqueFd, UniqueFd>> make_pipe(int flags)
{
	int p[2];
	if (pipe2(p, flags | O_CLOEXEC) < 0)
		return fail_errno("pipe2");
	return std::pair{UniqueFd(p[0]), UniqueFd(p[1])};
}

} // namespace

Result<> PipeDumper::dump(const FdParms &p, uint32_t id)
{
	uint32_t pipe_id = uint32_t(p.st.st_ino);
	FownEntry fown = FOWN_ENTRY__INIT;
	PipeEntry pe = PIPE_ENTRY__INIT;
	pe.id = id;
	pe.pipe_id = pipe_id;
	pe.flags = p.flags;
	pe.fown = &fown;
	FileEntry fe = FILE_ENTRY__INIT;
	fe.type = FD_TYPES__PIPE;
	fe.id = id;
	fe.pipe = &pe;
	TRY(files_->write(fe.base));
	TRY_CTX(data_.dump(p, pipe_id), "pipe of {}", p.what());
	return {};
}

// Copies what the pipe holds without taking it out: tee() into a pipe of ours, read that.
Result<> PipeDataDumper::dump(const FdParms &p, uint32_t pipe_id)
{
	if (!seen_.insert(pipe_id).second)
		return {};
	UniqueFd src = TRY(xio::open(p.proc_path, O_RDONLY | O_NONBLOCK));
	int queued = 0;
	if (ioctl(src.get(), FIONREAD, &queued) < 0)
		return fail_errno("FIONREAD");
	int size = fcntl(src.get(), F_GETPIPE_SZ);
	if (size < 0)
		return fail_errno("F_GETPIPE_SZ");
	if (queued == 0)
		return {};
	auto [r, w] = TRY(make_pipe(O_NONBLOCK));
	if (fcntl(w.get(), F_SETPIPE_SZ, size) < 0)
		return fail_errno("F_SETPIPE_SZ {}", size);
	std::vector<uint8_t> data(static_cast<size_t>(queued));
	ssize_t got = tee(src.get(), w.get(), data.size(), SPLICE_F_NONBLOCK);
	if (got != queued)
		return fail(EIO, "tee copied {} of the {} bytes buffered", got, queued);
	TRY(xio::read_full(r.borrow(), xio::as_writable_bytes(data.data(), data.size())));

	if (!data_)
		data_ = TRY(dir_->create_image(kind_));
	PipeDataEntry e = PIPE_DATA_ENTRY__INIT;
	e.pipe_id = pipe_id;
	e.bytes = uint32_t(data.size());
	e.has_size = true;
	e.size = uint32_t(size);
	TRY(data_->write(e.base));
	TRY(data_->write_raw(data));
	pr_info("pipe {}: {} bytes buffered", pipe_id, data.size());
	return {};
}

Result<> PipeDataDumper::close() { return data_ ? data_->close() : Result<>{}; }

Result<std::map<uint32_t, PipeData>> load_pipe_data(ImageDir &dir, img::Kind kind)
{
	std::map<uint32_t, PipeData> out;
	auto r = TRY(dir.open_image_optional(kind));
	if (!r)
		return out;
	while (auto m = TRY(r->read())) {
		const auto *e = pb_cast<PipeDataEntry>(*m);
		PipeData &p = out[e->pipe_id];
		if (!p.data.empty())
			return fail(EINVAL, "{}: pipe {} appears twice", r->name(), e->pipe_id);
		p.size = e->has_size ? e->size : 0;
		p.data.resize(e->bytes);
		TRY_CTX(r->read_raw(p.data), "{}: data of pipe {}", r->name(), e->pipe_id);
	}
	return out;
}

Result<> fill_pipe(BorrowedFd w, const PipeData &d)
{
	if (d.size && fcntl(w.get(), F_SETPIPE_SZ, d.size) < 0)
		return fail_errno("can't set its capacity to {}", d.size);
	return xio::write_full(w, xio::as_bytes(d.data.data(), d.data.size()));
}

Result<PipeTable> PipeTable::load(ImageDir &dir)
{
	PipeTable t;
	for (auto &[id, d] : TRY(load_pipe_data(dir, img::Kind::PipesData)))
		t.pipes_[id].data = std::move(d);
	return t;
}

Result<> PipeTable::create_all(int above) const
{
	for (const auto &[id, p] : pipes_) {
		auto [r, w] = TRY(make_pipe(0));
		TRY_CTX(fill_pipe(w.borrow(), p.data), "pipe {}", id);
		p.read.reset(fcntl(r.get(), F_DUPFD_CLOEXEC, above + 1));
		p.write.reset(fcntl(w.get(), F_DUPFD_CLOEXEC, above + 1));
		if (!p.read || !p.write)
			return fail_errno("pipe {}: can't move it above fd {}", id, above);
	}
	return {};
}

Result<UniqueFd> PipeTable::open(const PipeEntry &pe) const
{
	auto it = pipes_.find(pe.pipe_id);
	if (it == pipes_.end() || !it->second.read)
		return fail(ENOENT, "pipe {} was not created", pe.pipe_id);
	bool write = (pe.flags & O_ACCMODE) == O_WRONLY;
	int end = write ? it->second.write.get() : it->second.read.get();
	int flags = int(pe.flags) & (O_ACCMODE | O_NONBLOCK | O_DIRECT);
	return TRY_CTX(xio::open(fmt::format("/proc/self/fd/{}", end), flags), "pipe {}", pe.pipe_id);
}

} // namespace criu
