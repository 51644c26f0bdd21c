// 9P2000.L message types and constants (the protocol as Linux's fs/9p and net/9p speak it;
// the names follow Linux's include/net/9p/9p.h). T* is a request, R* its reply (T + 1).
#pragma once

#include <cstdint>

namespace minivmm::p9 {

enum MessageType : uint8_t {
    TLERROR = 6, RLERROR = 7,
    TSTATFS = 8,
    TLOPEN = 12,
    TLCREATE = 14,
    TSYMLINK = 16,
    TMKNOD = 18,
    TRENAME = 20,
    TREADLINK = 22,
    TGETATTR = 24,
    TSETATTR = 26,
    TXATTRWALK = 30,
    TXATTRCREATE = 32,
    TREADDIR = 40,
    TFSYNC = 50,
    TLOCK = 52,
    TGETLOCK = 54,
    TLINK = 70,
    TMKDIR = 72,
    TRENAMEAT = 74,
    TUNLINKAT = 76,
    TVERSION = 100,
    TAUTH = 102,
    TATTACH = 104,
    TFLUSH = 108,
    TWALK = 110,
    TREAD = 116,
    TWRITE = 118,
    TCLUNK = 120,
    TREMOVE = 122,
};

constexpr uint16_t NOTAG = 0xffff;
constexpr uint32_t NOFID = 0xffffffff;
constexpr uint16_t MAXWELEM = 16;   // names in one Twalk

// qid.type
constexpr uint8_t QT_DIR = 0x80;
constexpr uint8_t QT_SYMLINK = 0x02;
constexpr uint8_t QT_FILE = 0x00;

// Tgetattr request_mask / Rgetattr valid: the basic fields (mode..blocks) are all we fill.
constexpr uint64_t GETATTR_BASIC = 0x000007ff;

// Tsetattr valid
constexpr uint32_t SETATTR_MODE = 0x001;
constexpr uint32_t SETATTR_UID = 0x002;
constexpr uint32_t SETATTR_GID = 0x004;
constexpr uint32_t SETATTR_SIZE = 0x008;
constexpr uint32_t SETATTR_ATIME = 0x010;
constexpr uint32_t SETATTR_MTIME = 0x020;
constexpr uint32_t SETATTR_CTIME = 0x040;
constexpr uint32_t SETATTR_ATIME_SET = 0x080;
constexpr uint32_t SETATTR_MTIME_SET = 0x100;

// Tlock type / Rlock status / Tgetlock type
constexpr uint8_t LOCK_TYPE_RDLCK = 0;
constexpr uint8_t LOCK_TYPE_WRLCK = 1;
constexpr uint8_t LOCK_TYPE_UNLCK = 2;
constexpr uint8_t LOCK_SUCCESS = 0;

// Tunlinkat flags (Linux's AT_REMOVEDIR)
constexpr uint32_t DOTL_AT_REMOVEDIR = 0x200;

// The protocol version string we speak.
constexpr const char* VERSION_9P2000_L = "9P2000.L";

} // namespace minivmm::p9
