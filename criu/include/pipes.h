// Pipes, as CRIU records them:
//   files.img       FileEntry {type PIPE, id, pipe: PipeEntry {id, pipe_id = the pipe's inode,
//                   flags, fown}}, one per open file of either end;
//   pipes-data.img  PipeDataEntry {pipe_id, bytes, size = the pipe's capacity}, then the bytes
//                   buffered in it, once per pipe that holds any.
// Restore creates every pipe of the checkpoint once, in the root task before it forks (so that
// every task inherits it), fills it and keeps both ends on hidden fds; each open file reopens its
// end through /proc/self/fd (a description of its own, as before), and files a child shares with
// its parent are taken from the parent (see FdPlan). Internal to files.cc.
//
// PipeDataDumper, load_pipe_data and fill_pipe are shared with FIFOs (fifo-data.img has the
// same format; see fifo.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "common/result.h"
#include "common/unique-fd.h"
#include "image-dir.h"
#include "pipe.pb-c.h"

namespace criu {

struct FdParms;

// Writes the data buffered in each pipe (or FIFO) once, into pipes-data.img or fifo-data.img.
class PipeDataDumper {
public:
	PipeDataDumper(ImageDir &dir, img::Kind kind) : dir_(&dir), kind_(kind) {}
	// The first time pipe_id is seen: copies what p's pipe holds (with tee, so that it stays in
	// the pipe; the task must be frozen) into the image, with the pipe's capacity.
	[[nodiscard]] Result<> dump(const FdParms &p, uint32_t pipe_id);
	[[nodiscard]] Result<> close(); // the image, when written

private:
	ImageDir *dir_;
	img::Kind kind_;
	std::optional<ImageWriter> data_;
	std::set<uint32_t> seen_; // pipe ids
};

// What a pipe (or FIFO) held at dump time.
struct PipeData {
	uint32_t size = 0;         // capacity, 0: the default
	std::vector<uint8_t> data; // buffered
};

// pipes-data.img or fifo-data.img, by pipe id (no image: every pipe was empty).
[[nodiscard]] Result<std::map<uint32_t, PipeData>> load_pipe_data(ImageDir &dir, img::Kind kind);
// Sets the capacity of the pipe w writes into and writes the data into it.
[[nodiscard]] Result<> fill_pipe(BorrowedFd w, const PipeData &d);

class PipeDumper {
public:
	PipeDumper(ImageDir &dir, ImageWriter &files) : files_(&files), data_(dir, img::Kind::PipesData) {}
	// Writes FileEntry{PIPE, id} for p, and the pipe's buffered data the first time the pipe is
	// seen. The task must be frozen; the data stays in the pipe (it is copied with tee).
	[[nodiscard]] Result<> dump(const FdParms &p, uint32_t id);
	[[nodiscard]] Result<> close() { return data_.close(); } // pipes-data.img, when written

private:
	ImageWriter *files_;
	PipeDataDumper data_;
};

class PipeTable {
public:
	// pipes-data.img (none: every pipe was empty).
	[[nodiscard]] static Result<PipeTable> load(ImageDir &dir);
	void add(const PipeEntry &pe) { pipes_.try_emplace(pe.pipe_id); }
	// Creates every pipe on fds above `above`, with its capacity and data.
	[[nodiscard]] Result<> create_all(int above) const;
	// A new open file of pe's end of its pipe (O_WRONLY: the write end), with pe's flags.
	[[nodiscard]] Result<UniqueFd> open(const PipeEntry &pe) const;

private:
	struct Pipe {
		PipeData data;
		mutable UniqueFd read, write; // once created
	};
	std::map<uint32_t, Pipe> pipes_; // by pipe id
};

} // namespace criu
