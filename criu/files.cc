// The fd table: reads a task's fds from /proc, dispatches each by kind, writes fdinfo-N.img;
// at restore, opens every fd at its number.
#define LOG_PREFIX "files: "
#include "files.h"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>

#include "anon-inode.h"
#include "common/log.h"
#include "common/xio.h"
#include "eventfd.h"
#include "eventpoll.h"
#include "handed-files.h"
#include "fdinfo.pb-c.h"
#include "fifo.h"
#include "file-locks.h"
#include "files-reg.h"
#include "fsnotify.h"
#include "memfd.h"
#include "options.h"
#include "pipes.h"
#include "regfile.pb-c.h"
#include "sk-unix.h"
#include "sk-inet.h"
#include "shared-files.h"
#include "signalfd.h"
#include "timerfd.h"
#include "tty.pb-c.h"
#include "tty.h"

namespace criu {

namespace {

// ---- what the kernel shows about one fd ----

Result<std::string> read_link(const std::string &path)
{
	std::string buf(4096, '\0');
	ssize_t n = readlink(path.c_str(), buf.data(), buf.size());
	if (n < 0)
		return fail_errno("can't readlink {}", path);
	buf.resize(size_t(n));
	return buf;
}

uint64_t field(const std::string &text, std::string_view name, int base)
{
	size_t at = text.find(name);
	if (at == std::string::npos)
		return 0;
	const char *p = text.data() + at + name.size();
	while (*p == '\t' || *p == ' ')
		p++;
	uint64_t v = 0;
	std::from_chars(p, text.data() + text.size(), v, base);
	return v;
}

// stat, readlink and (for a real fd) /proc/PID/fdinfo/N of one open file.
Result<FdParms> read_fd_parms(pid_t pid, int fd, const std::string &proc_path)
{
	FdParms p;
	p.pid = pid;
	p.fd = fd;
	p.proc_path = proc_path;
	if (stat(proc_path.c_str(), &p.st) < 0)
		return fail_errno("{}: can't stat {}", p.what(), proc_path);
	p.link = TRY_CTX(read_link(proc_path), "{}", p.what());
	if (fd < 0)
		return p;
	std::string info = TRY_CTX(xio::read_file(fmt::format("/proc/{}/fdinfo/{}", pid, fd)), "{}", p.what());
	p.pos = field(info, "pos:", 10);
	p.flags = uint32_t(field(info, "flags:", 8));
	p.fd_flags = (p.flags & O_CLOEXEC) ? FD_CLOEXEC : 0;
	return p;
}

Result<std::vector<int>> list_fds(pid_t pid)
{
	std::error_code ec;
	std::vector<int> fds;
	std::string dir = fmt::format("/proc/{}/fd", pid);
	for (const auto &de : std::filesystem::directory_iterator(dir, ec)) {
		std::string name = de.path().filename();
		int fd = -1;
		std::from_chars(name.data(), name.data() + name.size(), fd);
		if (fd >= 0)
			fds.push_back(fd);
	}
	if (ec)
		return fail(ec.value(), "can't list {}", dir);
	std::sort(fds.begin(), fds.end());
	return fds;
}

// ---- fd kinds, by what the kernel reports ----

struct FdDumpCtx {
	ImageWriter &files;
	RegFileDumper &reg;
	MemfdDumper &memfd;
	PipeDumper &pipes;
	UnixSkDumper &unix_sk;
	InetSkDumper &inet;
	FifoDumper &fifo;
	TtyDumper &tty;
	uint32_t &next_id;
	const Options &opts;
};
using FdDumpFn = Result<> (*)(FdDumpCtx &, const FdParms &, uint32_t id);

struct FdKind {
	const char *name;
	bool (*match)(const FdParms &);
	FdTypes type;
	FdDumpFn dump; // nullptr: not supported yet
};

Result<> dump_reg_fd(FdDumpCtx &c, const FdParms &p, uint32_t id) { return c.reg.dump(p, id); }
Result<> dump_memfd_fd(FdDumpCtx &c, const FdParms &p, uint32_t id) { return c.memfd.dump(p, id); }
Result<> dump_pipe_fd(FdDumpCtx &c, const FdParms &p, uint32_t id) { return c.pipes.dump(p, id); }
Result<> dump_unix_sk_fd(FdDumpCtx &c, const FdParms &p, uint32_t id) { return c.unix_sk.dump(p, id, c.opts); }
Result<> dump_eventfd_fd(FdDumpCtx &c, const FdParms &p, uint32_t id) { return dump_eventfd(c.files, p, id); }
Result<> dump_eventpoll_fd(FdDumpCtx &c, const FdParms &p, uint32_t id) { return dump_eventpoll(c.files, p, id); }
Result<> dump_signalfd_fd(FdDumpCtx &c, const FdParms &p, uint32_t id) { return dump_signalfd(c.files, p, id); }
Result<> dump_timerfd_fd(FdDumpCtx &c, const FdParms &p, uint32_t id) { return dump_timerfd(c.files, p, id); }
Result<> dump_inotify_fd(FdDumpCtx &c, const FdParms &p, uint32_t id) { return dump_inotify(c.files, p, id); }
Result<> dump_fanotify_fd(FdDumpCtx &c, const FdParms &p, uint32_t id) { return dump_fanotify(c.files, p, id); }

// The socket's protocol name, as the kernel gives it ("UNIX", "UNIX-STREAM", "TCP", ...),
// starts with name.
bool sock_proto_is(const FdParms &p, std::string_view name)
{
	char buf[32];
	ssize_t n = S_ISSOCK(p.st.st_mode) ? getxattr(p.proc_path.c_str(), "system.sockprotoname", buf, sizeof(buf)) : -1;
	return n > 0 && std::string_view(buf, strnlen(buf, size_t(n))).starts_with(name);
}
Result<> dump_inet_fd(FdDumpCtx &c, const FdParms &p, uint32_t id) { return c.inet.dump(p, id, c.opts); }

Result<> dump_fifo_fd(FdDumpCtx &c, const FdParms &p, uint32_t id) { return c.fifo.dump(p, id, c.next_id++, c.reg); }
Result<> dump_tty_fd(FdDumpCtx &c, const FdParms &p, uint32_t id)
{
	return c.tty.dump(p, id, c.next_id++, c.reg, c.opts.shell_job);
}

bool link_starts(const FdParms &p, std::string_view s) { return p.link.starts_with(s); }

const FdKind kFdKinds[] = {
	{"memfd", [](const FdParms &p) { return link_starts(p, "/memfd:"); }, FD_TYPES__MEMFD, dump_memfd_fd},
	{"regular file", [](const FdParms &p) { return S_ISREG(p.st.st_mode); }, FD_TYPES__REG, dump_reg_fd},
	{"directory", [](const FdParms &p) { return S_ISDIR(p.st.st_mode); }, FD_TYPES__REG, dump_reg_fd},
	{"memory device", [](const FdParms &p) { return S_ISCHR(p.st.st_mode) && major(p.st.st_rdev) == 1; },
	 FD_TYPES__REG, dump_reg_fd},
	{"terminal", [](const FdParms &p) { return S_ISCHR(p.st.st_mode) && is_tty_dev(p.st.st_rdev); },
	 FD_TYPES__TTY, dump_tty_fd},
	{"pipe", [](const FdParms &p) { return link_starts(p, "pipe:"); }, FD_TYPES__PIPE, dump_pipe_fd},
	{"fifo", [](const FdParms &p) { return S_ISFIFO(p.st.st_mode); }, FD_TYPES__FIFO, dump_fifo_fd},
	{"unix socket", [](const FdParms &p) { return sock_proto_is(p, "UNIX"); }, FD_TYPES__UNIXSK, dump_unix_sk_fd},
	{"inet socket", [](const FdParms &p) { return S_ISSOCK(p.st.st_mode) && is_inet_socket(p); }, FD_TYPES__INETSK,
	 dump_inet_fd},
	{"socket", [](const FdParms &p) { return S_ISSOCK(p.st.st_mode); }, FD_TYPES__UND, nullptr},
	{"eventfd", [](const FdParms &p) { return p.link == "anon_inode:[eventfd]"; }, FD_TYPES__EVENTFD, dump_eventfd_fd},
	{"eventpoll", [](const FdParms &p) { return p.link == "anon_inode:[eventpoll]"; }, FD_TYPES__EVENTPOLL,
	 dump_eventpoll_fd},
	{"signalfd", [](const FdParms &p) { return p.link == "anon_inode:[signalfd]"; }, FD_TYPES__SIGNALFD,
	 dump_signalfd_fd},
	{"timerfd", [](const FdParms &p) { return p.link == "anon_inode:[timerfd]"; }, FD_TYPES__TIMERFD, dump_timerfd_fd},
	{"inotify", [](const FdParms &p) { return p.link == "anon_inode:inotify"; }, FD_TYPES__INOTIFY, dump_inotify_fd},
	{"fanotify", [](const FdParms &p) { return p.link == "anon_inode:[fanotify]"; }, FD_TYPES__FANOTIFY,
	 dump_fanotify_fd},
	{"anon inode", [](const FdParms &p) { return link_starts(p, "anon_inode:"); }, FD_TYPES__UND, nullptr},
	{"character device", [](const FdParms &p) { return S_ISCHR(p.st.st_mode); }, FD_TYPES__UND, nullptr},
	{"block device", [](const FdParms &p) { return S_ISBLK(p.st.st_mode); }, FD_TYPES__UND, nullptr},
};

const FdKind *find_kind(const FdParms &p)
{
	for (const FdKind &k : kFdKinds)
		if (k.match(p))
			return &k;
	return nullptr;
}

// The kinds of file restore can put in flight again (FileTable::open_in_flight): those the
// root opens once for the tree, and sockets.
bool opened_in_flight(uint32_t type)
{
	return opened_once(type) || type == FD_TYPES__UNIXSK || type == FD_TYPES__INETSK;
}

bool same_file(pid_t pid1, int fd1, pid_t pid2, int fd2)
{
	return syscall(SYS_kcmp, pid1, pid2, KCMP_FILE, fd1, fd2) == 0;
}

} // namespace

// ---- dump ----

FilesDumper::FilesDumper(ImageDir &dir, std::unique_ptr<ImageWriter> files)
	: dir_(&dir), files_(std::move(files)), reg_(std::make_unique<RegFileDumper>(dir, *files_)),
	  memfd_(std::make_unique<MemfdDumper>(dir, *files_)), pipes_(std::make_unique<PipeDumper>(dir, *files_)),
	  unix_(std::make_unique<UnixSkDumper>(dir, *files_)),
	  inet_(std::make_unique<InetSkDumper>(dir, *files_)),
	  fifo_(std::make_unique<FifoDumper>(dir, *files_)), locks_(std::make_unique<FileLockDumper>(dir)),
	  tty_(std::make_unique<TtyDumper>(dir, *files_))
{
}
FilesDumper::FilesDumper(FilesDumper &&) noexcept = default;
FilesDumper &FilesDumper::operator=(FilesDumper &&) noexcept = default;
FilesDumper::~FilesDumper() = default;

Result<FilesDumper> FilesDumper::create(ImageDir &dir)
{
	auto w = TRY(dir.create_image(img::Kind::Files));
	return FilesDumper(dir, std::make_unique<ImageWriter>(std::move(w)));
}

void FilesDumper::set_ghost_limit(uint64_t bytes) { reg_->set_ghost_limit(bytes); }

void FilesDumper::saw_task(pid_t pid) { tty_->saw_task(pid); }

void FilesDumper::tasks_killed() { inet_->finish(true); }
void FilesDumper::tasks_resume() { inet_->finish(false); }

Result<uint32_t> FilesDumper::dump_path_file(FdParms &p)
{
	auto key = std::make_tuple(uint64_t(p.st.st_dev), uint64_t(p.st.st_ino), p.flags);
	if (auto it = by_path_.find(key); it != by_path_.end())
		return it->second;
	const FdKind *k = find_kind(p);
	if (!k || (k->type != FD_TYPES__REG && k->type != FD_TYPES__MEMFD))
		return fail(ENOTSUP, "{} is a {} ({}): not supported", p.what(), k ? k->name : "file of unknown kind",
			    p.link);
	uint32_t id = next_id_++;
	TRY(k->type == FD_TYPES__MEMFD ? memfd_->dump(p, id) : reg_->dump(p, id));
	by_path_[key] = id;
	return id;
}

Result<uint32_t> FilesDumper::dump_mapped_file(pid_t pid, const Vma &vma)
{
	FdParms p = TRY(read_fd_parms(pid, -1, fmt::format("/proc/{}/map_files/{:x}-{:x}", pid, vma.start, vma.end)));
	bool shared_rw = (vma.flags & MAP_SHARED) && (vma.prot & PROT_WRITE);
	p.flags = shared_rw ? O_RDWR : O_RDONLY;
	return dump_path_file(p);
}

Result<uint32_t> FilesDumper::dump_exe(pid_t pid)
{
	FdParms p = TRY(read_fd_parms(pid, -1, fmt::format("/proc/{}/exe", pid)));
	return dump_path_file(p);
}

Result<uint32_t> FilesDumper::dump_cwd(pid_t pid)
{
	FdParms p = TRY(read_fd_parms(pid, -1, fmt::format("/proc/{}/cwd", pid)));
	return dump_path_file(p);
}

Result<uint32_t> FilesDumper::dump_root(pid_t pid)
{
	FdParms p = TRY(read_fd_parms(pid, -1, fmt::format("/proc/{}/root", pid)));
	return dump_path_file(p);
}

std::optional<FilesDumper::DumpedFd> FilesDumper::find_shared(const FdParms &p) const
{
	for (const DumpedFd &d : dumped_)
		if (d.dev == uint64_t(p.st.st_dev) && d.ino == uint64_t(p.st.st_ino) &&
		    same_file(p.pid, p.fd, d.pid, d.fd))
			return d;
	return std::nullopt;
}

// Returns (file id, fd type).
Result<std::pair<uint32_t, uint32_t>> FilesDumper::dump_one_fd(FdParms &p, const Options &opts)
{
	const FdKind *k = find_kind(p);
	if (!k || !k->dump)
		return fail(ENOTSUP, "{} is a {} ({}): not supported yet", p.what(), k ? k->name : "file of unknown kind",
			    p.link);
	if (auto d = find_shared(p)) {
		pr_debug("{} shares file {:#x} with fd {} of {}\n", p.what(), d->id, d->fd, d->pid);
		return std::make_pair(d->id, d->type);
	}
	uint32_t id = next_id_++;
	FdDumpCtx c{*files_, *reg_, *memfd_, *pipes_, *unix_, *inet_, *fifo_, *tty_, next_id_, opts};
	TRY(k->dump(c, p, id));
	dumped_.push_back({p.pid, p.fd, uint64_t(p.st.st_dev), uint64_t(p.st.st_ino), id, uint32_t(k->type)});
	return std::make_pair(id, uint32_t(k->type));
}

Result<> FilesDumper::dump_fds(pid_t pid, uint32_t files_id, const Options &opts)
{
	auto fds = TRY_CTX(list_fds(pid), "pid {}", pid);
	auto w = TRY(dir_->create_image(img::Kind::Fdinfo, files_id));
	pr_info("Dumping {} fds of {} into {}\n", fds.size(), pid, w.name());
	tty_->saw_task(pid);
	for (int fd : fds) {
		FdParms p = TRY(read_fd_parms(pid, fd, fmt::format("/proc/{}/fd/{}", pid, fd)));
		auto [id, type] = TRY(dump_one_fd(p, opts));
		if (type == FD_TYPES__EVENTPOLL || type == FD_TYPES__TTY) { // see check_inherited
			parent_shared_[id].first = type;
			parent_shared_[id].second.insert(pid);
		}
		TRY(locks_->dump(p, id, opts.file_locks));
		FdinfoEntry e = FDINFO_ENTRY__INIT;
		e.id = id;
		e.flags = p.fd_flags;
		e.type = FdTypes(type);
		e.fd = uint32_t(fd);
		TRY(w.write(e.base));
	}
	return w.close();
}

// A file in flight on a unix socket (fd: criu's duplicate of it): the tree's file when kcmp
// says so, else a new entry. Kinds restore can open once, in the root, before any task exists
// (see sk-unix.h): regular files, pipes, FIFOs, unix and inet sockets, memfds, eventfd,
// signalfd, timerfd, inotify and fanotify.
Result<uint32_t> FilesDumper::dump_in_flight(int fd, const std::string &what, const Options &opts)
{
	FdParms p = TRY_CTX(read_fd_parms(getpid(), fd, fmt::format("/proc/self/fd/{}", fd)), "{}", what);
	p.flags &= ~uint32_t(O_CLOEXEC); // criu's own fd's; no task has the file in its fd table
	const FdKind *k = find_kind(p);
	auto d = find_shared(p);
	uint32_t type = d ? d->type : k ? uint32_t(k->type) : 0;
	if (!opened_in_flight(type))
		return fail(ENOTSUP, "{} is a {} ({}): not supported", what, k ? k->name : "file of unknown kind", p.link);
	if (d)
		return d->id;
	uint32_t id = next_id_++;
	if (type == FD_TYPES__UNIXSK) { // its own queue may hold files in flight in turn
		TRY(unix_->dump_in_flight(p, id, what));
	} else {
		FdDumpCtx c{*files_, *reg_, *memfd_, *pipes_, *unix_, *inet_, *fifo_, *tty_, next_id_, opts};
		TRY(k->dump(c, p, id));
	}
	dumped_.push_back({p.pid, p.fd, uint64_t(p.st.st_dev), uint64_t(p.st.st_ino), id, type});
	pr_info("{}: file {:#x}, a {}\n", what, id, k->name);
	return id;
}

Result<> FilesDumper::close(const Options &opts)
{
	TRY(unix_->resolve_rights(
		[&](int fd, const std::string &what) { return dump_in_flight(fd, what, opts); }));
	TRY(reg_->close());
	TRY(memfd_->close());
	TRY(pipes_->close());
	TRY(unix_->close(next_id_));
	TRY(fifo_->close());
	TRY(locks_->close());
	TRY(tty_->close());
	return files_->close();
}

// ---- restore: files.img ----

FileTable::FileTable() = default;
FileTable::FileTable(FileTable &&) noexcept = default;
FileTable &FileTable::operator=(FileTable &&) noexcept = default;
FileTable::~FileTable() = default;

Result<FileTable> FileTable::load(ImageDir &dir)
{
	FileTable t;
	auto r = TRY(dir.open_image(img::Kind::Files));
	while (auto m = TRY(r.read())) {
		const auto *fe = pb_cast<FileEntry>(*m);
		if (fe->type == FD_TYPES__REG && (!fe->reg || fe->reg->id != fe->id || !fe->reg->name))
			return fail(EINVAL, "{}: REG file {:#x} without a matching reg entry", r.name(), fe->id);
		if (fe->type == FD_TYPES__MEMFD && (!fe->memfd || fe->memfd->id != fe->id))
			return fail(EINVAL, "{}: MEMFD file {:#x} without a matching memfd entry", r.name(), fe->id);
		if (fe->type == FD_TYPES__PIPE && (!fe->pipe || fe->pipe->id != fe->id))
			return fail(EINVAL, "{}: PIPE file {:#x} without a matching pipe entry", r.name(), fe->id);
		if (fe->type == FD_TYPES__UNIXSK && (!fe->usk || fe->usk->id != fe->id))
			return fail(EINVAL, "{}: UNIXSK file {:#x} without a matching usk entry", r.name(), fe->id);
		if (fe->type == FD_TYPES__INETSK && (!fe->isk || fe->isk->id != fe->id))
			return fail(EINVAL, "{}: INETSK file {:#x} without a matching isk entry", r.name(), fe->id);
		if (fe->type == FD_TYPES__FIFO && (!fe->fifo || fe->fifo->id != fe->id || !fe->fifo->has_regf_id))
			return fail(EINVAL, "{}: FIFO file {:#x} without a matching fifo entry", r.name(), fe->id);
		if (is_anon_type(fe->type))
			TRY_CTX(check_anon_entry(*fe), "{}", r.name());
		uint32_t id = fe->id;
		if (!t.entries_.emplace(id, std::move(*m)).second)
			return fail(EINVAL, "{}: file id {:#x} appears twice", r.name(), id);
	}
	t.reg_ = std::make_unique<RegFileOpener>(TRY(RegFileOpener::load(dir)));
	t.memfd_ = std::make_unique<MemfdTable>(TRY(MemfdTable::load(dir)));
	t.pipes_ = std::make_unique<PipeTable>(TRY(PipeTable::load(dir)));
	t.fifos_ = std::make_unique<FifoTable>(TRY(FifoTable::load(dir)));
	TRY(t.add_fifos());
	t.locks_ = std::make_unique<FileLockTable>(TRY(FileLockTable::load(dir)));
	t.ttys_ = std::make_unique<TtyTable>(TRY(TtyTable::load(dir)));
	for (const auto &[id, m] : t.entries_)
		if (const auto *fe = pb_cast<FileEntry>(m); fe->type == FD_TYPES__PIPE)
			t.pipes_->add(*fe->pipe);
	t.unix_ = std::make_unique<UnixSkTable>(TRY(UnixSkTable::load(dir)));
	for (const auto &[id, m] : t.entries_)
		if (const auto *fe = pb_cast<FileEntry>(m); fe->type == FD_TYPES__UNIXSK)
			t.unix_->add(*fe->usk);
	t.inet_ = std::make_unique<InetSkTable>();
	for (const auto &[id, m] : t.entries_)
		if (const auto *fe = pb_cast<FileEntry>(m); fe->type == FD_TYPES__INETSK)
			t.inet_->add(*fe->isk);
	TRY(t.inet_->load_streams(dir));
	for (const auto &[id, m] : t.entries_)
		if (const auto *fe = pb_cast<FileEntry>(m); fe->type == FD_TYPES__MEMFD)
			TRY_CTX(t.memfd_->check(*fe->memfd), "files.img");
	return t;
}

Result<UniqueFd> FileTable::open_reg(uint32_t id, std::optional<int> flags_override) const
{
	auto it = entries_.find(id);
	if (it == entries_.end())
		return fail(ENOENT, "files.img: no file with id {:#x}", id);
	const auto *fe = pb_cast<FileEntry>(it->second);
	if (fe->type != FD_TYPES__REG)
		return fail(EINVAL, "files.img: file {:#x} is of type {}, not REG", id, int(fe->type));
	int flags = flags_override ? *flags_override : int(fe->reg->flags);
	return TRY_CTX(reg_->open(*fe->reg, flags, !flags_override), "files.img");
}

Result<UniqueFd> FileTable::open_memfd(uint32_t id, std::optional<int> flags_override) const
{
	auto it = entries_.find(id);
	if (it == entries_.end())
		return fail(ENOENT, "files.img: no file with id {:#x}", id);
	const auto *fe = pb_cast<FileEntry>(it->second);
	if (fe->type != FD_TYPES__MEMFD)
		return fail(EINVAL, "files.img: file {:#x} is of type {}, not MEMFD", id, int(fe->type));
	int flags = flags_override ? *flags_override : int(fe->memfd->flags);
	return TRY_CTX(memfd_->open(*fe->memfd, flags, !flags_override), "files.img");
}

Result<> FileTable::create_memfds(int above) const { return memfd_->create_all(above); }
Result<> FileTable::seal_memfds() const { return memfd_->seal_all(); }

Result<> FileTable::create_pipes(int above) const
{
	TRY(pipes_->create_all(above));
	TRY(fifos_->create_all(above)); // before the unix queues, which may hold FIFO ends in flight
	TRY(unix_->create_all(above, [this](uint32_t id) { return open_in_flight(id); }));
	return ttys_->create_all(above);
}

Result<UniqueFd> FileTable::open_unix_sk(uint32_t id) const { return unix_->open(id); }

Result<UniqueFd> FileTable::open_in_flight(uint32_t id) const
{
	auto it = entries_.find(id);
	uint32_t type = it == entries_.end() ? 0 : uint32_t(pb_cast<FileEntry>(it->second)->type);
	if (!opened_in_flight(type))
		return fail(ENOTSUP, "files.img: file {:#x} (type {}) in flight: not supported", id, type);
	if (type == FD_TYPES__UNIXSK)
		return open_unix_sk(id);
	if (type == FD_TYPES__INETSK)
		return open_inet(id); // made before the unix sockets' queues are filled
	return open_once(*this, id, type);
}

Result<> FileTable::create_inet_sockets(int above) const { return inet_->create_all(above); }

Result<UniqueFd> FileTable::open_inet(uint32_t id) const
{
	auto it = entries_.find(id);
	if (it == entries_.end() || pb_cast<FileEntry>(it->second)->type != FD_TYPES__INETSK)
		return fail(ENOENT, "files.img: no inet socket with id {:#x}", id);
	return inet_->open(*pb_cast<FileEntry>(it->second)->isk);
}

Result<> FileTable::add_fifos()
{
	for (const auto &[id, m] : entries_) {
		const auto *fe = pb_cast<FileEntry>(m);
		if (fe->type != FD_TYPES__FIFO)
			continue;
		auto reg = entries_.find(fe->fifo->regf_id);
		if (reg == entries_.end() || pb_cast<FileEntry>(reg->second)->type != FD_TYPES__REG)
			return fail(EINVAL, "files.img: FIFO {:#x} without its REG entry {:#x}", id, fe->fifo->regf_id);
		TRY(fifos_->add(*fe->fifo, pb_cast<FileEntry>(reg->second)->reg->name));
	}
	return {};
}

Result<> FileTable::fds_installed(pid_t pid) const
{
	TRY(locks_->restore(pid));
	return ttys_->restore_ctty(pid);
}

const TtyFileEntry *FileTable::pty(uint32_t id) const
{
	auto it = entries_.find(id);
	if (it == entries_.end() || pb_cast<FileEntry>(it->second)->type != FD_TYPES__TTY)
		return nullptr;
	const TtyFileEntry *te = pb_cast<FileEntry>(it->second)->tty;
	return te && ttys_->is_pty(*te) ? te : nullptr;
}

Result<UniqueFd> FileTable::open_pty(const TtyFileEntry &te) const
{
	auto reg = entries_.find(te.regf_id);
	if (!te.has_regf_id || reg == entries_.end() || pb_cast<FileEntry>(reg->second)->type != FD_TYPES__REG)
		return fail(EINVAL, "files.img: tty {:#x} without its REG entry", te.id);
	return ttys_->open(te, reopen_flags(pb_cast<FileEntry>(reg->second)->reg->flags));
}

Result<UniqueFd> FileTable::open_fifo(uint32_t id) const
{
	auto it = entries_.find(id);
	if (it == entries_.end() || pb_cast<FileEntry>(it->second)->type != FD_TYPES__FIFO)
		return fail(ENOENT, "files.img: no FIFO with id {:#x}", id);
	const FifoEntry &fe = *pb_cast<FileEntry>(it->second)->fifo;
	const auto *reg = pb_cast<FileEntry>(entries_.at(fe.regf_id))->reg;
	return fifos_->open(fe, reopen_flags(reg->flags));
}

Result<UniqueFd> FileTable::open_pipe(uint32_t id) const
{
	auto it = entries_.find(id);
	if (it == entries_.end() || pb_cast<FileEntry>(it->second)->type != FD_TYPES__PIPE)
		return fail(ENOENT, "files.img: no pipe with id {:#x}", id);
	return pipes_->open(*pb_cast<FileEntry>(it->second)->pipe);
}

// ---- restore: fdinfo-N.img ----

Result<FdPlan> FdPlan::load(ImageDir &dir, uint32_t files_id)
{
	FdPlan plan;
	auto r = TRY(dir.open_image(img::Kind::Fdinfo, files_id));
	plan.image_ = r.name();
	plan.files_id_ = files_id;
	while (auto m = TRY(r.read())) {
		const auto *e = pb_cast<FdinfoEntry>(*m);
		if (e->fd > INT32_MAX)
			return fail(EINVAL, "{}: fd {} is out of range", plan.image_, e->fd);
		plan.entries_.push_back({int(e->fd), e->id, uint32_t(e->type), e->flags});
	}
	std::sort(plan.entries_.begin(), plan.entries_.end(), [](const Fd &a, const Fd &b) { return a.fd < b.fd; });
	for (const Fd &e : plan.entries_) {
		if (!plan.fds_.empty() && plan.fds_.back() == e.fd)
			return fail(EINVAL, "{}: fd {} appears twice", plan.image_, e.fd);
		plan.fds_.push_back(e.fd);
	}
	return plan;
}

Result<> FdPlan::install_one(const FileTable &files, const Fd &e, std::map<uint32_t, int> &opened, bool shell_job,
			     int tty_fd) const
{
	UniqueFd own;
	int from;
	if (auto o = opened.find(e.id); o != opened.end()) {
		from = o->second;
	} else if (e.type == FD_TYPES__REG) {
		own = TRY(files.open_reg(e.id));
		from = own.get();
	} else if (e.type == FD_TYPES__MEMFD) {
		own = TRY(files.open_memfd(e.id));
		from = own.get();
	} else if (e.type == FD_TYPES__PIPE) {
		own = TRY(files.open_pipe(e.id));
		from = own.get();
	} else if (e.type == FD_TYPES__UNIXSK) {
		own = TRY(files.open_unix_sk(e.id));
		from = own.get();
	} else if (e.type == FD_TYPES__INETSK) {
		own = TRY(files.open_inet(e.id));
		from = own.get();
	} else if (e.type == FD_TYPES__FIFO) {
		own = TRY(files.open_fifo(e.id));
		from = own.get();
	} else if (const TtyFileEntry *te = e.type == FD_TYPES__TTY ? files.pty(e.id) : nullptr) {
		own = TRY(files.open_pty(*te));
		from = own.get();
	} else if (is_anon_type(e.type)) {
		own = TRY(files.open_anon(e.id));
		from = own.get();
	} else if (e.type == FD_TYPES__TTY) {
		if (!shell_job)
			return fail(EINVAL, "a terminal: --shell-job is needed");
		if (tty_fd < 0)
			return fail(EBADF, "a terminal, but criu has none to give");
		from = tty_fd;
	} else {
		return fail(ENOTSUP, "fd type {} is not supported yet", e.type);
	}
	if (from == e.fd)
		(void)own.release();
	else if (dup3(from, e.fd, 0) < 0)
		return fail_errno("can't dup {} to {}", from, e.fd);
	if (fcntl(e.fd, F_SETFD, int(e.flags & FD_CLOEXEC)) < 0)
		return fail_errno("can't set fd flags {:#x}", e.flags);
	opened[e.id] = e.fd;
	return {};
}

std::map<uint32_t, int> FdPlan::files_by_id() const
{
	std::map<uint32_t, int> out;
	for (const Fd &e : entries_)
		out.emplace(e.id, e.fd);
	return out;
}

Result<> FdPlan::install(const FileTable &files, bool shell_job, int tty_fd,
			 const std::map<uint32_t, int> &inherited) const
{
	int floor = max_fd() + 1;
	TRY(files.reg_->keep_fds_from(floor));
	TRY(files.memfd_->keep_fds_from(floor));
	UniqueFd tty_copy;
	if (shell_job && tty_fd >= 0 && tty_fd < floor) {
		tty_copy.reset(fcntl(tty_fd, F_DUPFD_CLOEXEC, floor));
		if (!tty_copy)
			return fail_errno("{}: can't move terminal fd {} above {}", image_, tty_fd, floor);
		tty_fd = tty_copy.get();
	}
	std::map<uint32_t, int> opened = inherited;
	for (const auto &[id, fd] : files.unix_->in_flight_files()) // the root made them, see sk-unix.h
		opened.emplace(id, fd.get());
	for (const auto &[id, fd] : files.shared_) // opened once by the root (shared-files.h)
		opened.try_emplace(id, fd.get());
	const HandedFiles *handed = files.handoffs_.get();
	auto keep_place = [&](const Fd &e) -> Result<> { // receive_handed puts the file there later
		if (dup3(handed->placeholder(e.id), e.fd, (e.flags & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0)
			return fail_errno("{}: fd {}: can't keep the place of file {:#x}", image_, e.fd, e.id);
		return {};
	};
	std::vector<Fd> epolls, fresh; // installed last: their targets are the task's fds (eventpoll.h)
	for (const Fd &e : entries_) {
		if (e.type == FD_TYPES__EVENTPOLL) {
			epolls.push_back(e);
		} else if (handed && handed->receives(e.id, files_id_)) {
			TRY(keep_place(e));
		} else {
			bool first = !opened.contains(e.id);
			TRY_CTX(install_one(files, e, opened, shell_job, tty_fd), "{}: fd {}", image_, e.fd);
			if (first && handed && handed->creates(e.id, files_id_)) // a pty end (handed-files.h)
				TRY_CTX(handed->send(e.id, e.fd), "{}: fd {}", image_, e.fd);
		}
	}
	for (const Fd &e : epolls) {
		if (handed && handed->receives(e.id, files_id_)) {
			TRY(keep_place(e));
			continue;
		}
		if (!opened.contains(e.id)) // not the parent's, nor at another fd already
			fresh.push_back(e);
		TRY_CTX(install_one(files, e, opened, shell_job, tty_fd), "{}: fd {}", image_, e.fd);
	}
	for (const Fd &e : fresh) {
		TRY_CTX(files.add_epoll_targets(e.id, e.fd), "{}: fd {}", image_, e.fd);
		if (handed && handed->creates(e.id, files_id_))
			TRY_CTX(handed->send(e.id, e.fd), "{}: fd {}", image_, e.fd);
	}
	return {};
}

std::optional<uint32_t> FdPlan::id_at(int fd) const
{
	for (const Fd &e : entries_)
		if (e.fd == fd)
			return e.id;
	return std::nullopt;
}

std::set<uint32_t> FdPlan::handable(const FileTable &files) const
{
	std::set<uint32_t> out;
	for (const Fd &e : entries_)
		if (e.type == FD_TYPES__EVENTPOLL || (e.type == FD_TYPES__TTY && files.pty(e.id)))
			out.insert(e.id);
	return out;
}

Result<> FdPlan::receive_handed(const FileTable &files, const std::map<int, int> &moved) const
{
	const HandedFiles *handed = files.handoffs_.get();
	for (const Fd &e : entries_) {
		if (!handed || !handed->receives(e.id, files_id_))
			continue;
		UniqueFd fd = TRY_CTX(handed->receive(e.id), "{}: fd {}", image_, e.fd);
		auto m = moved.find(e.fd);
		int to = m == moved.end() ? e.fd : m->second;
		int flags = m != moved.end() || (e.flags & FD_CLOEXEC) ? O_CLOEXEC : 0;
		if (dup3(fd.get(), to, flags) < 0)
			return fail_errno("{}: fd {}: can't put file {:#x} there", image_, e.fd, e.id);
	}
	return {};
}

} // namespace criu
