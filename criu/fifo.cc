// Named pipes, dump and restore (see fifo.h).
#define LOG_PREFIX "fifo: "
#include "fifo.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/xio.h"
#include "fdinfo.pb-c.h"
#include "files-reg.h"

namespace criu {

Result<> FifoDumper::dump(const FdParms &p, uint32_t id, uint32_t regf_id, RegFileDumper &reg)
{
	if (p.st.st_nlink == 0)
		return fail(ENOTSUP, "{}: FIFO {} was deleted: not supported", p.what(), p.link);
	TRY(reg.dump(p, regf_id));
	FifoEntry e = FIFO_ENTRY__INIT;
	e.id = id;
	e.pipe_id = uint32_t(p.st.st_ino);
	e.has_regf_id = true;
	e.regf_id = regf_id;
	FileEntry fe = FILE_ENTRY__INIT;
	fe.type = FD_TYPES__FIFO;
	fe.id = id;
	fe.fifo = &e;
	pr_info("Dumping fifo {} of {} id {:#x} regf {:#x}\n", e.pipe_id, p.what(), id, regf_id);
	TRY(files_->write(fe.base));
	TRY_CTX(data_.dump(p, e.pipe_id), "FIFO of {}", p.what());
	return {};
}

Result<FifoTable> FifoTable::load(ImageDir &dir)
{
	FifoTable t;
	t.data_ = TRY(load_pipe_data(dir, img::Kind::FifoData));
	return t;
}

Result<> FifoTable::add(const FifoEntry &fe, const std::string &path)
{
	auto [it, added] = fifos_.try_emplace(fe.pipe_id);
	if (!added)
		return {}; // another open file of a FIFO already known
	it->second.path = path;
	if (auto d = data_.find(fe.pipe_id); d != data_.end())
		it->second.data = std::move(d->second);
	return {};
}

Result<> FifoTable::create_all(int above) const
{
	for (const auto &[id, f] : fifos_) {
		UniqueFd fd = TRY_CTX(xio::open(f.path, O_RDWR | O_CLOEXEC), "FIFO {}", id);
		struct stat st;
		if (fstat(fd.get(), &st) < 0 || !S_ISFIFO(st.st_mode))
			return fail(ENOTSUP, "FIFO {}: {} is not a FIFO any more", id, f.path);
		f.fd.reset(fcntl(fd.get(), F_DUPFD_CLOEXEC, above + 1));
		if (!f.fd)
			return fail_errno("FIFO {}: can't move it above fd {}", id, above);
		TRY_CTX(fill_pipe(f.fd.borrow(), f.data), "FIFO {} ({})", id, f.path);
		if (!f.data.data.empty())
			pr_info("FIFO {} ({}): {} bytes refilled\n", id, f.path, f.data.data.size());
	}
	return {};
}

Result<UniqueFd> FifoTable::open(const FifoEntry &fe, int flags) const
{
	auto it = fifos_.find(fe.pipe_id);
	if (it == fifos_.end() || !it->second.fd)
		return fail(ENOENT, "FIFO {} was not opened", fe.pipe_id);
	return TRY_CTX(xio::open(fmt::format("/proc/self/fd/{}", it->second.fd.get()), flags), "FIFO {} ({})",
		       fe.pipe_id, it->second.path);
}

} // namespace criu
