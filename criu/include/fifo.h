// Named pipes (FIFOs), as CRIU records them:
//   files.img      FileEntry {type FIFO, id, fifo: FifoEntry {id, pipe_id = the FIFO's inode,
//                  regf_id}}, one per open file, plus the REG entry regf_id that names the FIFO
//                  node (path, open flags, mode);
//   fifo-data.img  PipeDataEntry {pipe_id, bytes, size}, then the bytes buffered in the FIFO,
//                  once per FIFO that holds any (pipes-data.img's format, see pipes.h).
// The FIFO node itself must still exist at restore (a deleted FIFO is refused at dump). Restore
// opens each FIFO's path once, O_RDWR (which never blocks), in the root task before it forks,
// refills its data and keeps that fd hidden above every task's fds: the FIFO keeps its data
// while the tasks open it. Each open file then reopens that fd through /proc/self/fd with its
// own flags (which does not block either: the hidden fd is both a reader and a writer).
// Internal to files.cc.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/result.h"
#include "common/unique-fd.h"
#include "fifo.pb-c.h"
#include "image-dir.h"
#include "pipes.h"

namespace criu {

struct FdParms;
class RegFileDumper;

class FifoDumper {
public:
	FifoDumper(ImageDir &dir, ImageWriter &files) : files_(&files), data_(dir, img::Kind::FifoData) {}
	// Writes FileEntry{REG, regf_id} naming p's FIFO node and FileEntry{FIFO, id}, and the
	// FIFO's buffered data the first time it is seen.
	[[nodiscard]] Result<> dump(const FdParms &p, uint32_t id, uint32_t regf_id, RegFileDumper &reg);
	[[nodiscard]] Result<> close() { return data_.close(); } // fifo-data.img, when written

private:
	ImageWriter *files_;
	PipeDataDumper data_;
};

class FifoTable {
public:
	// fifo-data.img (none: every FIFO was empty).
	[[nodiscard]] static Result<FifoTable> load(ImageDir &dir);
	// The FIFO fe (pipe_id) has its node at path.
	[[nodiscard]] Result<> add(const FifoEntry &fe, const std::string &path);
	// Opens every FIFO O_RDWR on a hidden fd above `above` and refills it.
	[[nodiscard]] Result<> create_all(int above) const;
	// A new open file of fe's FIFO with the given open flags.
	[[nodiscard]] Result<UniqueFd> open(const FifoEntry &fe, int flags) const;

private:
	struct Fifo {
		std::string path;
		PipeData data;
		mutable UniqueFd fd; // O_RDWR, once created
	};
	std::map<uint32_t, PipeData> data_; // by pipe id, as read
	std::map<uint32_t, Fifo> fifos_;    // by pipe id
};

} // namespace criu
