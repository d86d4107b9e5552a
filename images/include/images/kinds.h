// The image kinds CRIUsec reads and writes: CRIU's file names, magic numbers
// and entry messages, plus two kinds of our own (cipher.img, pagetags-N.img).
#pragma once

#include <protobuf-c/protobuf-c.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace criu::img {

enum class Kind : uint16_t {
	Inventory,
	Pstree,
	Core,
	Ids,
	Creds,
	Mm,
	Pagemap,
	ShmemPagemap,
	Pages,
	Fdinfo,
	Files,
	RegFiles,
	Fs,
	Sigacts,
	Itimers,
	PosixTimers,
	Rlimit,
	Pipes,
	PipesData,
	Fifo,
	FifoData,
	GhostFile,
	RemapFpath,
	SignalShared,  // signal-s-N.img: pending signals of the thread group
	SignalPrivate, // signal-p-N.img: pending signals of one thread
	Seccomp,
	Timens,
	TtyInfo,
	TtyData,
	TtyFiles,
	MemfdInode,
	Eventfd,
	SkQueues,
	InetSk,    // inetsk.img: CRIU's old place for inet sockets (now in files.img)
	TcpStream, // tcp-stream-<ino>.img: an entry, then the receive and send queues
	FileLocks,
	// CRIU 2.x's own images of the anon-inode kinds (3.x writes them into files.img): for crit.
	EventpollFile,
	EventpollTfd,
	Signalfd,
	Timerfd,
	InotifyFile,
	InotifyWd,
	FanotifyFile,
	FanotifyMark,
	StatsDump,
	StatsRestore,
	Cipher,   // ours: the key envelope
	PageTags, // ours: authentication tags of a pages image
};

// What precedes the image's own magic in the file.
enum class MagicPrefix : uint8_t {
	None,    // raw image, or inventory.img
	Common,  // kImgCommonMagic
	Service, // kImgServiceMagic (stats)
};

// What besides protobuf entries an image holds.
enum class Extra : uint8_t {
	None,
	PipeData,  // entry.bytes raw bytes follow each entry
	GhostFile, // ghost_file_entry, then the file content (raw, or chunk entries + data)
	Pagemap,   // first entry is a pagemap_head, the rest pagemap_entry
	SkPacket,  // entry.length raw bytes follow each entry
	TcpStream, // inq_len + outq_len raw bytes follow the tcp_stream_entry
};

struct KindInfo {
	Kind kind;
	const char *name;     // CRIU's magic name as crit prints it ("CORE"), or ours
	const char *file_fmt; // CRIU's file name: no conversion, or one of %u %lu %x
	uint32_t magic;       // 0 for raw images
	MagicPrefix prefix;
	Extra extra;
	const ProtobufCMessageDescriptor *desc;      // entry message; nullptr for raw images
	const ProtobufCMessageDescriptor *head_desc; // first entry if it differs (pagemap)
	bool criu_crit_knows; // CRIU 3.17's crit can decode it
};

constexpr uint32_t kImgCommonMagic = 0x54564319;
constexpr uint32_t kImgServiceMagic = 0x55105940;

const KindInfo &info(Kind k);
std::span<const KindInfo> all_kinds();

// Lookups by CRIU's identifiers. Some kinds share them (signal-s/-p,
// stats-dump/-restore, pagemap/pagemap-shmem); these return the first.
const KindInfo *find_by_magic(uint32_t magic);       // nullptr if unknown or 0
const KindInfo *find_by_name(std::string_view name); // nullptr if unknown

// The file name of image k with the given id ("core-42.img", "ghost-file-1a.img").
std::string file_name(Kind k, uint64_t id = 0);

} // namespace criu::img
