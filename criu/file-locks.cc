// File locks, dump and restore (see file-locks.h).
#define LOG_PREFIX "file-locks: "
#include "file-locks.h"

#include <fcntl.h>
#include <sys/file.h>

#include <charconv>
#include <sstream>

#include "common/log.h"
#include "common/xio.h"
#include "file-lock.pb-c.h"
#include "files-reg.h"

namespace criu {

namespace {

const char *kind_name(uint32_t kind)
{
	return kind == FL_POSIX ? "POSIX" : kind == FL_FLOCK ? "FLOCK" : kind == FL_OFD ? "OFD" : "unknown";
}

// One line after "lock:": "1: POSIX  ADVISORY  WRITE 1234 fe:00:42 0 EOF".
Result<FileLock> parse_lock_line(const std::string &line)
{
	std::istringstream in(line);
	std::string num, kind, mode, type, pid, dev, start, end;
	if (!(in >> num >> kind >> mode >> type >> pid >> dev >> start >> end))
		return fail(EINVAL, "can't parse the lock line [{}]", line);
	FileLock l;
	if (kind == "POSIX")
		l.kind = FL_POSIX;
	else if (kind == "FLOCK")
		l.kind = FL_FLOCK;
	else if (kind == "OFDLCK")
		l.kind = FL_OFD;
	else
		return fail(ENOTSUP, "a {} lock ([{}]): not supported", kind, line);
	if (mode != "ADVISORY")
		return fail(ENOTSUP, "a {} {} lock: not supported", mode, kind);
	if (type == "READ")
		l.type = F_RDLCK;
	else if (type == "WRITE")
		l.type = F_WRLCK;
	else
		return fail(ENOTSUP, "a {} lock of type {}: not supported", kind, type);
	auto num_of = [](const std::string &s, auto &v) {
		return std::from_chars(s.data(), s.data() + s.size(), v).ec == std::errc();
	};
	int64_t last = 0;
	if (!num_of(pid, l.pid) || !num_of(start, l.start) || (end != "EOF" && !num_of(end, last)))
		return fail(EINVAL, "can't parse the lock line [{}]", line);
	l.len = end == "EOF" ? 0 : last - l.start + 1;
	return l;
}

} // namespace

Result<std::vector<FileLock>> parse_fdinfo_locks(const std::string &fdinfo)
{
	std::vector<FileLock> out;
	std::istringstream in(fdinfo);
	for (std::string line; std::getline(in, line);)
		if (line.starts_with("lock:"))
			out.push_back(TRY(parse_lock_line(line.substr(5))));
	return out;
}

Result<> FileLockDumper::dump(const FdParms &p, uint32_t id, bool handle)
{
	std::string info = TRY_CTX(xio::read_file(fmt::format("/proc/{}/fdinfo/{}", p.pid, p.fd)), "{}", p.what());
	auto locks = TRY_CTX(parse_fdinfo_locks(info), "{}", p.what());
	if (!locks.empty() && !handle)
		return fail(EINVAL, "Some file locks are hold without --file-locks option ({} holds a {} lock on {})",
			    p.what(), kind_name(locks[0].kind), p.link);
	for (const FileLock &l : locks) {
		pid_t owner = l.kind == FL_POSIX ? p.pid : 0; // flock/OFD: the open file's
		if (!seen_.emplace(l.kind, owner, id, l.type, l.start, l.len).second)
			continue;
		if (!img_)
			img_ = TRY(dir_->create_image(img::Kind::FileLocks));
		FileLockEntry e = FILE_LOCK_ENTRY__INIT;
		e.flag = l.kind;
		e.type = l.type;
		e.pid = p.pid;
		e.fd = p.fd;
		e.start = l.start;
		e.len = l.len;
		pr_info("{}: {} lock type {} start {} len {}\n", p.what(), kind_name(l.kind), l.type, l.start, l.len);
		TRY(img_->write(e.base));
	}
	return {};
}

Result<> FileLockDumper::close() { return img_ ? img_->close() : Result<>{}; }

Result<FileLockTable> FileLockTable::load(ImageDir &dir)
{
	FileLockTable t;
	auto r = TRY(dir.open_image_optional(img::Kind::FileLocks));
	if (!r)
		return t;
	while (auto m = TRY(r->read())) {
		const auto *e = pb_cast<FileLockEntry>(*m);
		if ((e->flag != FL_POSIX && e->flag != FL_FLOCK && e->flag != FL_OFD) ||
		    (e->type != F_RDLCK && e->type != F_WRLCK) || e->fd < 0)
			return fail(EINVAL, "{}: lock of kind {} type {} on fd {} is not supported", r->name(), e->flag,
				    e->type, e->fd);
		t.locks_.push_back({{e->flag, e->type, e->pid, e->start, e->len}, e->pid, e->fd});
	}
	return t;
}

Result<> FileLockTable::restore(pid_t pid) const
{
	for (const Entry &e : locks_) {
		if (e.owner != pid)
			continue;
		const FileLock &l = e.lock;
		pr_info("{}: taking the {} lock type {} start {} len {} on fd {}\n", pid, kind_name(l.kind), l.type,
			l.start, l.len, e.fd);
		if (l.kind == FL_FLOCK) {
			int op = (l.type == F_WRLCK ? LOCK_EX : LOCK_SH) | LOCK_NB;
			if (flock(e.fd, op) < 0)
				return fail_errno("task {}: can't take the flock lock on fd {}", pid, e.fd);
			continue;
		}
		struct flock fl = {};
		fl.l_type = short(l.type);
		fl.l_whence = SEEK_SET;
		fl.l_start = l.start;
		fl.l_len = l.len;
		if (fcntl(e.fd, l.kind == FL_OFD ? F_OFD_SETLK : F_SETLK, &fl) < 0)
			return fail_errno("task {}: can't take the {} lock [{}, +{}) on fd {}", pid, kind_name(l.kind),
					  l.start, l.len, e.fd);
	}
	return {};
}

} // namespace criu
