#include "images/kinds.h"

#include <array>
#include <cstdio>

#include "cipher.pb-c.h"
#include "core.pb-c.h"
#include "eventfd.pb-c.h"
#include "eventpoll.pb-c.h"
#include "fdinfo.pb-c.h"
#include "file-lock.pb-c.h"
#include "fs.pb-c.h"
#include "fsnotify.pb-c.h"
#include "ghost-file.pb-c.h"
#include "inventory.pb-c.h"
#include "memfd.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pipe-data.pb-c.h"
#include "pipe.pb-c.h"
#include "pstree.pb-c.h"
#include "regfile.pb-c.h"
#include "remap-file-path.pb-c.h"
#include "seccomp.pb-c.h"
#include "sk-packet.pb-c.h"
#include "sk-inet.pb-c.h"
#include "signalfd.pb-c.h"
#include "stats.pb-c.h"
#include "tcp-stream.pb-c.h"
#include "timens.pb-c.h"
#include "timerfd.pb-c.h"
#include "tty.pb-c.h"

namespace criu::img {

namespace {

using P = MagicPrefix;
using X = Extra;

constexpr auto kKinds = std::to_array<KindInfo>({
	// kind, name, file_fmt, magic, prefix, extra, desc, head_desc, criu_crit_knows
	{Kind::Inventory, "INVENTORY", "inventory.img", 0x58313116, P::None, X::None,
	 &inventory_entry__descriptor, nullptr, true},
	{Kind::Pstree, "PSTREE", "pstree.img", 0x50273030, P::Common, X::None, &pstree_entry__descriptor, nullptr,
	 true},
	{Kind::Core, "CORE", "core-%u.img", 0x55053847, P::Common, X::None, &core_entry__descriptor, nullptr, true},
	{Kind::Ids, "IDS", "ids-%u.img", 0x54432030, P::Common, X::None, &task_kobj_ids_entry__descriptor, nullptr,
	 true},
	{Kind::Creds, "CREDS", "creds-%u.img", 0x54023547, P::Common, X::None, &creds_entry__descriptor, nullptr,
	 true},
	{Kind::Mm, "MM", "mm-%u.img", 0x57492820, P::Common, X::None, &mm_entry__descriptor, nullptr, true},
	{Kind::Pagemap, "PAGEMAP", "pagemap-%lu.img", 0x56084025, P::Common, X::Pagemap, &pagemap_entry__descriptor,
	 &pagemap_head__descriptor, true},
	{Kind::ShmemPagemap, "PAGEMAP", "pagemap-shmem-%lu.img", 0x56084025, P::Common, X::Pagemap,
	 &pagemap_entry__descriptor, &pagemap_head__descriptor, true},
	{Kind::Pages, "PAGES", "pages-%u.img", 0, P::None, X::None, nullptr, nullptr, false},
	{Kind::Fdinfo, "FDINFO", "fdinfo-%u.img", 0x56213732, P::Common, X::None, &fdinfo_entry__descriptor, nullptr,
	 true},
	{Kind::Files, "FILES", "files.img", 0x56303138, P::Common, X::None, &file_entry__descriptor, nullptr, true},
	{Kind::RegFiles, "REG_FILES", "reg-files.img", 0x50363636, P::Common, X::None, &reg_file_entry__descriptor,
	 nullptr, true},
	{Kind::Fs, "FS", "fs-%u.img", 0x51403912, P::Common, X::None, &fs_entry__descriptor, nullptr, true},
	{Kind::Sigacts, "SIGACT", "sigacts-%u.img", 0x55344201, P::Common, X::None, &sa_entry__descriptor, nullptr,
	 true},
	{Kind::Itimers, "ITIMERS", "itimers-%u.img", 0x57464056, P::Common, X::None, &itimer_entry__descriptor,
	 nullptr, true},
	{Kind::PosixTimers, "POSIX_TIMERS", "posix-timers-%u.img", 0x52603957, P::Common, X::None,
	 &posix_timer_entry__descriptor, nullptr, true},
	{Kind::Rlimit, "RLIMIT", "rlimit-%u.img", 0x57113925, P::Common, X::None, &rlimit_entry__descriptor, nullptr,
	 true},
	{Kind::Pipes, "PIPES", "pipes.img", 0x56513555, P::Common, X::None, &pipe_entry__descriptor, nullptr, true},
	{Kind::PipesData, "PIPES_DATA", "pipes-data.img", 0x56453709, P::Common, X::PipeData,
	 &pipe_data_entry__descriptor, nullptr, true},
	{Kind::Fifo, "FIFO", "fifo.img", 0x58364939, P::Common, X::None, &fifo_entry__descriptor, nullptr, true},
	{Kind::FifoData, "FIFO_DATA", "fifo-data.img", 0x59333054, P::Common, X::PipeData,
	 &pipe_data_entry__descriptor, nullptr, true},
	{Kind::GhostFile, "GHOST_FILE", "ghost-file-%x.img", 0x52583605, P::Common, X::GhostFile,
	 &ghost_file_entry__descriptor, nullptr, true},
	{Kind::RemapFpath, "REMAP_FPATH", "remap-fpath.img", 0x59133954, P::Common, X::None,
	 &remap_file_path_entry__descriptor, nullptr, true},
	// crit 3.17 has no handler for SIGNAL images.
	{Kind::SignalShared, "SIGNAL", "signal-s-%u.img", 0x59255647, P::Common, X::None, &siginfo_entry__descriptor,
	 nullptr, false},
	{Kind::SignalPrivate, "SIGNAL", "signal-p-%u.img", 0x59255647, P::Common, X::None, &siginfo_entry__descriptor,
	 nullptr, false},
	{Kind::Seccomp, "SECCOMP", "seccomp.img", 0x64413049, P::Common, X::None, &seccomp_entry__descriptor, nullptr,
	 true},
	{Kind::Timens, "TIMENS", "timens-%u.img", 0x43114433, P::Common, X::None, &timens_entry__descriptor, nullptr,
	 true},
	{Kind::TtyInfo, "TTY_INFO", "tty-info.img", 0x59453036, P::Common, X::None, &tty_info_entry__descriptor,
	 nullptr, true},
	{Kind::TtyData, "TTY_DATA", "tty-data.img", 0x59413026, P::Common, X::None, &tty_data_entry__descriptor,
	 nullptr, true},
	{Kind::TtyFiles, "TTY_FILES", "tty.img", 0x59433025, P::Common, X::None, &tty_file_entry__descriptor, nullptr,
	 true},
	{Kind::MemfdInode, "MEMFD_INODE", "memfd.img", 0x48453499, P::Common, X::None, &memfd_inode_entry__descriptor,
	 nullptr, true},
	{Kind::Eventfd, "EVENTFD_FILE", "eventfd.img", 0x44523722, P::Common, X::None, &eventfd_file_entry__descriptor,
	 nullptr, true},
	{Kind::SkQueues, "SK_QUEUES", "sk-queues.img", 0x56264026, P::Common, X::SkPacket, &sk_packet_entry__descriptor,
	 nullptr, true},
	{Kind::InetSk, "INETSK", "inetsk.img", 0x56443851, P::Common, X::None, &inet_sk_entry__descriptor, nullptr,
	 true},
	{Kind::TcpStream, "TCP_STREAM", "tcp-stream-%x.img", 0x51465506, P::Common, X::TcpStream,
	 &tcp_stream_entry__descriptor, nullptr, true},
	{Kind::FileLocks, "FILE_LOCKS", "filelocks.img", 0x54323616, P::Common, X::None, &file_lock_entry__descriptor,
	 nullptr, true},
	{Kind::EventpollFile, "EVENTPOLL_FILE", "eventpoll.img", 0x45023858, P::Common, X::None,
	 &eventpoll_file_entry__descriptor, nullptr, true},
	{Kind::EventpollTfd, "EVENTPOLL_TFD", "eventpoll-tfd.img", 0x44433746, P::Common, X::None,
	 &eventpoll_tfd_entry__descriptor, nullptr, true},
	{Kind::Signalfd, "SIGNALFD", "signalfd.img", 0x57323820, P::Common, X::None, &signalfd_entry__descriptor,
	 nullptr, true},
	{Kind::Timerfd, "TIMERFD", "timerfd.img", 0x50493712, P::Common, X::None, &timerfd_entry__descriptor, nullptr,
	 true},
	{Kind::InotifyFile, "INOTIFY_FILE", "inotify.img", 0x48424431, P::Common, X::None,
	 &inotify_file_entry__descriptor, nullptr, true},
	{Kind::InotifyWd, "INOTIFY_WD", "inotify-wd.img", 0x54562009, P::Common, X::None, &inotify_wd_entry__descriptor,
	 nullptr, true},
	{Kind::FanotifyFile, "FANOTIFY_FILE", "fanotify.img", 0x55096122, P::Common, X::None,
	 &fanotify_file_entry__descriptor, nullptr, true},
	{Kind::FanotifyMark, "FANOTIFY_MARK", "fanotify-mark.img", 0x56506035, P::Common, X::None,
	 &fanotify_mark_entry__descriptor, nullptr, true},
	{Kind::StatsDump, "STATS", "stats-dump", 0x57093306, P::Service, X::None, &stats_entry__descriptor, nullptr,
	 true},
	{Kind::StatsRestore, "STATS", "stats-restore", 0x57093306, P::Service, X::None, &stats_entry__descriptor,
	 nullptr, true},
	// Ours. CRIU's magics are decimal-digit coordinates; hex letters keep clear of them.
	{Kind::Cipher, "CIPHER", "cipher.img", 0x5ec0c1fe, P::Common, X::None, &cipher_entry__descriptor, nullptr,
	 false},
	{Kind::PageTags, "PAGE_TAGS", "pagetags-%u.img", 0x5ec07a65, P::Common, X::None, &page_tags_entry__descriptor,
	 nullptr, false},
});

constexpr bool in_kind_order()
{
	for (size_t i = 0; i < kKinds.size(); i++)
		if (size_t(kKinds[i].kind) != i)
			return false;
	return size_t(Kind::PageTags) + 1 == kKinds.size();
}
static_assert(in_kind_order(), "kKinds must list every Kind once, in declaration order");

} // namespace

const KindInfo &info(Kind k)
{
	return kKinds[size_t(k)];
}

std::span<const KindInfo> all_kinds()
{
	return kKinds;
}

const KindInfo *find_by_magic(uint32_t magic)
{
	if (magic == 0)
		return nullptr;
	for (const KindInfo &k : kKinds)
		if (k.magic == magic)
			return &k;
	return nullptr;
}

const KindInfo *find_by_name(std::string_view name)
{
	for (const KindInfo &k : kKinds)
		if (name == k.name)
			return &k;
	return nullptr;
}

std::string file_name(Kind k, uint64_t id)
{
	std::string_view fmt = info(k).file_fmt;
	size_t pct = fmt.find('%');
	if (pct == fmt.npos)
		return std::string(fmt);
	size_t conv = fmt.find_first_not_of('l', pct + 1); // %u, %lu or %x
	char buf[24];
	int n = snprintf(buf, sizeof(buf), fmt[conv] == 'x' ? "%llx" : "%llu", (unsigned long long)id);
	std::string out(fmt.substr(0, pct));
	out.append(buf, size_t(n));
	out.append(fmt.substr(conv + 1));
	return out;
}

} // namespace criu::img
