// eventfd files, dump and restore (see eventfd.h).
#define LOG_PREFIX "eventfd: "
#include "eventfd.h"

#include <fcntl.h>
#include <sys/eventfd.h>

#include "anon-inode.h"
#include "common/log.h"
#include "fdinfo.pb-c.h"
#include "files-reg.h"

namespace criu {

Result<> dump_eventfd(ImageWriter &files, const FdParms &p, uint32_t id)
{
	std::string info = TRY(read_fdinfo(p));
	if (!has_fdinfo_field(info, "eventfd-count:"))
		return fail(EINVAL, "{}: no eventfd-count in its fdinfo", p.what());
	FownEntry fown = FOWN_ENTRY__INIT;
	EventfdFileEntry efe = EVENTFD_FILE_ENTRY__INIT;
	efe.id = id;
	efe.flags = p.flags;
	if (fdinfo_field(info, "eventfd-semaphore:", 10))
		efe.flags |= EFD_SEMAPHORE;
	efe.fown = &fown;
	efe.counter = fdinfo_field(info, "eventfd-count:", 16);
	pr_info("Dumping id {:#x} flags {:#o} counter {:#x}\n", id, efe.flags, efe.counter);
	FileEntry fe = FILE_ENTRY__INIT;
	fe.type = FD_TYPES__EVENTFD;
	fe.id = id;
	fe.efd = &efe;
	return files.write(fe.base);
}

Result<UniqueFd> open_eventfd(const EventfdFileEntry &e)
{
	int flags = EFD_CLOEXEC | (e.flags & EFD_SEMAPHORE) | (e.flags & O_NONBLOCK ? EFD_NONBLOCK : 0);
	UniqueFd fd(eventfd(0, flags));
	if (!fd)
		return fail_errno("can't create eventfd {:#x}", e.id);
	// The whole 64-bit range (eventfd() takes 32 bits): written in.
	if (e.counter && eventfd_write(fd.get(), e.counter) < 0)
		return fail_errno("can't set the counter of eventfd {:#x} to {:#x}", e.id, e.counter);
	pr_info("Restored id {:#x} flags {:#o} counter {:#x}\n", e.id, e.flags, e.counter);
	return fd;
}

} // namespace criu
