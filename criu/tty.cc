// Terminals, dump and restore (see tty.h).
#define LOG_PREFIX "tty: "
#include "tty.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>

#include "common/log.h"
#include "common/xio.h"
#include "fdinfo.pb-c.h"
#include "files-reg.h"

namespace criu {

// The kernel's termios has 19 control characters (glibc's struct has room for 32).
constexpr size_t kKernelNccs = 19;

namespace {

constexpr unsigned kPtyMasterMajor = 5, kPtyMasterMinor = 2;
constexpr unsigned kPtsMajorFirst = 136, kPtsMajorLast = 143;

bool is_pts(dev_t rdev) { return major(rdev) >= kPtsMajorFirst && major(rdev) <= kPtsMajorLast; }
uint32_t pts_index(dev_t rdev) { return (major(rdev) - kPtsMajorFirst) * 256 + minor(rdev); }

// CRIU's tty id: index << 1, | 1 for a pty master.
uint32_t tty_id(uint32_t index, bool master) { return index << 1 | (master ? 1 : 0); }

// The terminal's index as CRIU numbers it (pts: 256 per major).
uint32_t tty_index(dev_t rdev) { return is_pts(rdev) ? pts_index(rdev) : minor(rdev); }

Result<int> ioctl_int(int fd, unsigned long req, const char *name)
{
	int v = 0;
	if (ioctl(fd, req, &v) < 0)
		return fail_errno("ioctl {}", name);
	return v;
}

// TIOCGSID/TIOCGPGRP through the master: the slave's; 0 when it is nobody's terminal.
Result<pid_t> slave_pid_of(int master, unsigned long req, const char *name)
{
	pid_t v = 0;
	if (ioctl(master, req, &v) < 0)
		return errno == ENOTTY ? Result<pid_t>(0) : fail_errno("ioctl {}", name);
	return v;
}

// What `from` would read (the other end wrote it), read out and written back through `to`, so
// that it is queued again as before. Only where the line discipline passes it through unchanged
// (input: no canonical mode, echo, signals or translation; output: no post-processing, no packet
// mode), else refused.
Result<std::vector<uint8_t>> take_queued(const UniqueFd &from, const UniqueFd &to, const struct termios &tio,
					 bool input, bool packet = false)
{
	int n = TRY(ioctl_int(from.get(), FIONREAD, "FIONREAD"));
	if (n == 0)
		return std::vector<uint8_t>{};
	bool raw = input ? !(tio.c_lflag & (ICANON | ECHO | ECHONL | ISIG | IEXTEN)) &&
				   !(tio.c_iflag & (ICRNL | INLCR | IGNCR | ISTRIP | IUCLC | IXON | PARMRK))
			 : !(tio.c_oflag & OPOST) && !packet;
	if (!raw)
		return fail(ENOTSUP, "{} bytes, with termios that would change them when queued again (lflag {:#o}, "
				     "iflag {:#o}, oflag {:#o}{}): not supported",
			    n, tio.c_lflag, tio.c_iflag, tio.c_oflag, packet ? ", packet mode" : "");
	std::vector<uint8_t> data(static_cast<size_t>(n));
	ssize_t got = read(from.get(), data.data(), data.size());
	if (got != n)
		return fail_errno("read {} of {} bytes", got, n);
	TRY(xio::write_full(to.borrow(), xio::as_bytes(data.data(), data.size())));
	return data;
}

} // namespace

bool is_pty_master(dev_t rdev) { return major(rdev) == kPtyMasterMajor && minor(rdev) == kPtyMasterMinor; }

bool is_tty_dev(dev_t rdev)
{
	unsigned maj = major(rdev), min = minor(rdev);
	if (maj == 5)
		return min == 0 || min == 1 || min == 2; // /dev/tty, /dev/console, /dev/ptmx
	return maj == 4 || is_pts(rdev);
}

Result<> TtyDumper::dump_master(const FdParms &p, const UniqueFd &m, uint32_t index)
{
	UniqueFd s(ioctl(m.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
	if (!s)
		return fail_errno("pty {}: can't open its slave (TIOCGPTPEER)", index);
	Pty pty;
	pty.index = index;
	pty.master_rdev = uint32_t(p.st.st_rdev);
	pty.locked = TRY(ioctl_int(m.get(), TIOCGPTLCK, "TIOCGPTLCK")) != 0;
	pty.packet = TRY(ioctl_int(m.get(), TIOCGPKT, "TIOCGPKT")) != 0;
	pty.excl_master = TRY(ioctl_int(m.get(), TIOCGEXCL, "TIOCGEXCL")) != 0;
	pty.excl_slave = TRY(ioctl_int(s.get(), TIOCGEXCL, "TIOCGEXCL")) != 0;
	pty.sid = TRY(slave_pid_of(m.get(), TIOCGSID, "TIOCGSID"));
	pty.pgrp = TRY(slave_pid_of(m.get(), TIOCGPGRP, "TIOCGPGRP"));
	if (tcgetattr(s.get(), &pty.tio) < 0)
		return fail_errno("pty {}: tcgetattr", index);
	if (ioctl(s.get(), TIOCGWINSZ, &pty.ws) < 0)
		return fail_errno("pty {}: TIOCGWINSZ", index);
	if (pty.sid && pty.pgrp != pty.sid)
		return fail(ENOTSUP, "{}: pts/{} is the controlling terminal of session {} with foreground process "
				     "group {}: only the session's own group is supported",
			    p.what(), index, pty.sid, pty.pgrp);
	pty.to_slave = TRY_CTX(take_queued(s, m, pty.tio, true), "data queued to the slave of pty {}", index);
	pty.to_master = TRY_CTX(take_queued(m, s, pty.tio, false, pty.packet), "data queued to the master of pty {}",
				index);
	ptys_.emplace(index, std::move(pty));
	return {};
}

Result<> TtyDumper::dump(const FdParms &p, uint32_t id, uint32_t regf_id, RegFileDumper &reg, bool shell_job)
{
	shell_job_ = shell_job;
	bool master = is_pty_master(p.st.st_rdev);
	uint32_t index = tty_index(p.st.st_rdev);
	if (master) {
		UniqueFd m = TRY(steal_fd(p));
		index = uint32_t(TRY_CTX(ioctl_int(m.get(), TIOCGPTN, "TIOCGPTN"), "{}", p.what()));
		if (!ptys_.contains(index))
			TRY_CTX(dump_master(p, m, index), "{}", p.what());
	} else if (is_pts(p.st.st_rdev)) {
		slaves_.try_emplace(index, p.what());
	} else if (!shell_job) {
		return fail(EINVAL, "{} is a terminal ({}): --shell-job is needed", p.what(), p.link);
	}
	TRY(reg.dump(p, regf_id));
	FownEntry fown = FOWN_ENTRY__INIT;
	TtyFileEntry te = TTY_FILE_ENTRY__INIT;
	te.id = id;
	te.tty_info_id = tty_id(index, master);
	te.flags = p.flags;
	te.fown = &fown;
	te.has_regf_id = true;
	te.regf_id = regf_id;
	FileEntry fe = FILE_ENTRY__INIT;
	fe.type = FD_TYPES__TTY;
	fe.id = id;
	fe.tty = &te;
	pr_info("Dumping tty {} of {} id {:#x} ({})\n", te.tty_info_id, p.what(), id, p.link);
	return files_->write(fe.base);
}

namespace {

void fill_info(TtyInfoEntry &e, const TtyDumper::Pty &pty, bool master, TermiosEntry &t, uint32_t *cc,
	       WinsizeEntry &w, TtyPtyEntry &pe)
{
	e.id = tty_id(pty.index, master);
	e.type = TTY_TYPE__PTY;
	e.locked = pty.locked;
	e.exclusive = master ? pty.excl_master : pty.excl_slave;
	e.packet_mode = pty.packet;
	e.sid = uint32_t(pty.sid);
	e.pgrp = uint32_t(pty.pgrp);
	e.rdev = master ? pty.master_rdev : uint32_t(makedev(kPtsMajorFirst + pty.index / 256, pty.index % 256));
	t.c_iflag = pty.tio.c_iflag;
	t.c_oflag = pty.tio.c_oflag;
	t.c_cflag = pty.tio.c_cflag;
	t.c_lflag = pty.tio.c_lflag;
	t.c_line = pty.tio.c_line;
	t.c_ispeed = pty.tio.c_ispeed;
	t.c_ospeed = pty.tio.c_ospeed;
	std::copy_n(pty.tio.c_cc, kKernelNccs, cc);
	t.n_c_cc = kKernelNccs;
	t.c_cc = cc;
	e.termios = &t;
	w.ws_row = pty.ws.ws_row;
	w.ws_col = pty.ws.ws_col;
	w.ws_xpixel = pty.ws.ws_xpixel;
	w.ws_ypixel = pty.ws.ws_ypixel;
	e.winsize = &w;
	pe.index = pty.index;
	e.pty = &pe;
}

// Opens /dev/ptmx until devpts gives `index`; the masters with lower indexes are closed after.
Result<UniqueFd> open_master(uint32_t index)
{
	std::vector<UniqueFd> lower;
	for (;;) {
		UniqueFd m = TRY(xio::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
		uint32_t got = uint32_t(TRY(ioctl_int(m.get(), TIOCGPTN, "TIOCGPTN")));
		if (got == index)
			return m;
		if (got > index)
			return fail(EBUSY, "pty {} is in use on this host (devpts is shared): can't restore it", index);
		lower.push_back(std::move(m));
	}
}

Result<> set_flag(int fd, unsigned long req, int on, const char *name)
{
	if (ioctl(fd, req, &on) < 0)
		return fail_errno("ioctl {}", name);
	return {};
}

} // namespace

Result<> TtyDumper::close()
{
	for (const auto &[index, what] : slaves_)
		if (!ptys_.contains(index) && !shell_job_)
			return fail(EINVAL, "{} is pts/{}, whose master is not in the dumped tree: --shell-job is needed",
				    what, index);
	for (const auto &[index, pty] : ptys_)
		if (pty.sid && !tasks_.contains(pty.sid))
			return fail(ENOTSUP, "pts/{} is the controlling terminal of session {}, which is not in the dumped "
					     "tree: not supported",
				    index, pty.sid);
	if (ptys_.empty())
		return {};
	ImageWriter w = TRY(dir_->create_image(img::Kind::TtyInfo));
	for (const auto &[index, pty] : ptys_) {
		for (bool master : {true, false}) {
			TtyInfoEntry e = TTY_INFO_ENTRY__INIT;
			TermiosEntry t = TERMIOS_ENTRY__INIT;
			WinsizeEntry ws = WINSIZE_ENTRY__INIT;
			TtyPtyEntry pe = TTY_PTY_ENTRY__INIT;
			uint32_t cc[kKernelNccs];
			fill_info(e, pty, master, t, cc, ws, pe);
			TRY(w.write(e.base));
		}
	}
	TRY(w.close());
	return write_data();
}

// tty-data.img: TtyDataEntry {tty_id = the end that reads the data, data}.
Result<> TtyDumper::write_data()
{
	std::optional<ImageWriter> w;
	for (const auto &[index, pty] : ptys_) {
		for (bool master : {true, false}) {
			const std::vector<uint8_t> &data = master ? pty.to_master : pty.to_slave;
			if (data.empty())
				continue;
			if (!w)
				w = TRY(dir_->create_image(img::Kind::TtyData));
			TtyDataEntry e = TTY_DATA_ENTRY__INIT;
			e.tty_id = tty_id(index, master);
			e.data.len = data.size();
			e.data.data = const_cast<uint8_t *>(data.data());
			pr_info("pty {}: {} bytes queued to its {}\n", index, data.size(), master ? "master" : "slave");
			TRY(w->write(e.base));
		}
	}
	return w ? w->close() : Result<>{};
}

Result<TtyTable> TtyTable::load(ImageDir &dir)
{
	TtyTable t;
	auto r = TRY(dir.open_image_optional(img::Kind::TtyInfo));
	if (!r)
		return t;
	while (auto m = TRY(r->read())) {
		const auto *e = pb_cast<TtyInfoEntry>(*m);
		if (e->type != TTY_TYPE__PTY || !e->pty || !e->termios || !e->winsize || e->termios->n_c_cc > NCCS ||
		    e->pty->index != e->id >> 1)
			return fail(EINVAL, "{}: tty {:#x} of type {} is not supported", r->name(), e->id, int(e->type));
		t.ptys_.try_emplace(e->pty->index);
		uint32_t id = e->id;
		if (!t.infos_.emplace(id, std::move(*m)).second)
			return fail(EINVAL, "{}: tty {:#x} appears twice", r->name(), id);
	}
	for (const auto &[index, ends] : t.ptys_)
		if (!t.infos_.contains(tty_id(index, true)) || !t.infos_.contains(tty_id(index, false)))
			return fail(EINVAL, "{}: pty {} lacks one of its ends", r->name(), index);
	TRY(t.load_data(dir));
	return t;
}

Result<> TtyTable::load_data(ImageDir &dir)
{
	auto r = TRY(dir.open_image_optional(img::Kind::TtyData));
	if (!r)
		return {};
	while (auto m = TRY(r->read())) {
		const auto *e = pb_cast<TtyDataEntry>(*m);
		auto it = ptys_.find(e->tty_id >> 1);
		if (it == ptys_.end())
			return fail(EINVAL, "{}: data of tty {:#x}, which is no pty of the tree", r->name(), e->tty_id);
		auto &data = (e->tty_id & 1) ? it->second.to_master : it->second.to_slave;
		data.assign(e->data.data, e->data.data + e->data.len);
	}
	return {};
}

Result<> TtyTable::create(uint32_t index, int above) const
{
	const auto *mi = pb_cast<TtyInfoEntry>(infos_.at(tty_id(index, true)));
	const auto *si = pb_cast<TtyInfoEntry>(infos_.at(tty_id(index, false)));
	UniqueFd m = TRY(open_master(index));
	TRY(set_flag(m.get(), TIOCSPTLCK, 0, "TIOCSPTLCK"));
	UniqueFd s = TRY(xio::open(fmt::format("/dev/pts/{}", index), O_RDWR | O_NOCTTY | O_CLOEXEC));
	struct termios tio {};
	const TermiosEntry &t = *si->termios;
	tio.c_iflag = t.c_iflag;
	tio.c_oflag = t.c_oflag;
	tio.c_cflag = t.c_cflag;
	tio.c_lflag = t.c_lflag;
	tio.c_line = cc_t(t.c_line);
	tio.c_ispeed = t.c_ispeed;
	tio.c_ospeed = t.c_ospeed;
	for (size_t i = 0; i < t.n_c_cc; i++)
		tio.c_cc[i] = cc_t(t.c_cc[i]);
	if (tcsetattr(s.get(), TCSANOW, &tio) < 0)
		return fail_errno("can't set termios");
	struct winsize ws = {uint16_t(si->winsize->ws_row), uint16_t(si->winsize->ws_col),
			     uint16_t(si->winsize->ws_xpixel), uint16_t(si->winsize->ws_ypixel)};
	if (ioctl(s.get(), TIOCSWINSZ, &ws) < 0)
		return fail_errno("can't set the window size");
	TRY(set_flag(m.get(), TIOCPKT, mi->packet_mode, "TIOCPKT"));
	if (mi->exclusive && ioctl(m.get(), TIOCEXCL) < 0)
		return fail_errno("TIOCEXCL on the master");
	if (si->exclusive && ioctl(s.get(), TIOCEXCL) < 0)
		return fail_errno("TIOCEXCL on the slave");
	const Ends &e = ptys_.at(index);
	TRY_CTX(xio::write_full(m.borrow(), xio::as_bytes(e.to_slave.data(), e.to_slave.size())), "data to the slave");
	TRY_CTX(xio::write_full(s.borrow(), xio::as_bytes(e.to_master.data(), e.to_master.size())),
		"data to the master");
	if (mi->locked)
		TRY(set_flag(m.get(), TIOCSPTLCK, 1, "TIOCSPTLCK"));
	e.master.reset(fcntl(m.get(), F_DUPFD_CLOEXEC, above + 1));
	e.slave.reset(fcntl(s.get(), F_DUPFD_CLOEXEC, above + 1));
	if (!e.master || !e.slave)
		return fail_errno("can't move it above fd {}", above);
	pr_info("pty {} made again\n", index);
	return {};
}

Result<> TtyTable::restore_ctty(pid_t pid) const
{
	for (const auto &[index, ends] : ptys_) {
		const auto *si = pb_cast<TtyInfoEntry>(infos_.at(tty_id(index, false)));
		if (si->sid != uint32_t(pid))
			continue;
		if (ioctl(ends.slave.get(), TIOCSCTTY, 0) < 0)
			return fail_errno("task {}: can't make pts/{} its controlling terminal", pid, index);
		pr_info("{}: pts/{} is its controlling terminal again\n", pid, index);
	}
	return {};
}

Result<> TtyTable::create_all(int above) const
{
	for (const auto &[index, ends] : ptys_)
		TRY_CTX(create(index, above), "pty {}", index);
	return {};
}

Result<UniqueFd> TtyTable::open(const TtyFileEntry &te, int flags) const
{
	uint32_t index = te.tty_info_id >> 1;
	auto it = ptys_.find(index);
	if (it == ptys_.end() || !it->second.master)
		return fail(ENOENT, "pty {} was not made", index);
	if (!(te.tty_info_id & 1))
		return TRY_CTX(xio::open(fmt::format("/dev/pts/{}", index), flags | O_NOCTTY), "pty {}", index);
	UniqueFd m(fcntl(it->second.master.get(), F_DUPFD_CLOEXEC, 0));
	if (!m || fcntl(m.get(), F_SETFL, flags) < 0)
		return fail_errno("pty {}: can't dup its master", index);
	return m;
}

} // namespace criu
