// signalfd files, dump and restore (see signalfd.h).
#define LOG_PREFIX "signalfd: "
#include "signalfd.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/signalfd.h>

#include <cstring>

#include "anon-inode.h"
#include "common/log.h"
#include "fdinfo.pb-c.h"
#include "files-reg.h"

namespace criu {

Result<> dump_signalfd(ImageWriter &files, const FdParms &p, uint32_t id)
{
	std::string info = TRY(read_fdinfo(p));
	if (!has_fdinfo_field(info, "sigmask:"))
		return fail(EINVAL, "{}: no sigmask in its fdinfo", p.what());
	FownEntry fown = FOWN_ENTRY__INIT;
	SignalfdEntry sfe = SIGNALFD_ENTRY__INIT;
	sfe.id = id;
	sfe.flags = p.flags;
	sfe.fown = &fown;
	sfe.sigmask = fdinfo_field(info, "sigmask:", 16);
	pr_info("Dumping id {:#x} flags {:#o} sigmask {:#018x}\n", id, sfe.flags, sfe.sigmask);
	FileEntry fe = FILE_ENTRY__INIT;
	fe.type = FD_TYPES__SIGNALFD;
	fe.id = id;
	fe.sgfd = &sfe;
	return files.write(fe.base);
}

Result<UniqueFd> open_signalfd(const SignalfdEntry &e)
{
	sigset_t mask;
	sigemptyset(&mask);
	// The kernel's sigset is this word (sigaddset would refuse glibc's own signals 32 and 33).
	std::memcpy(&mask, &e.sigmask, sizeof(e.sigmask));
	int flags = SFD_CLOEXEC | (e.flags & O_NONBLOCK ? SFD_NONBLOCK : 0);
	UniqueFd fd(signalfd(-1, &mask, flags));
	if (!fd)
		return fail_errno("can't create signalfd {:#x} (sigmask {:#018x})", e.id, e.sigmask);
	pr_info("Restored id {:#x} flags {:#o} sigmask {:#018x}\n", e.id, e.flags, e.sigmask);
	return fd;
}

} // namespace criu
