// UringWriter: batched writes to one descriptor through a restricted io_uring.
#include "net/uring_writer.hpp"

#include <algorithm>
#include <cerrno>
#include <linux/io_uring.h>

#include "net/tap.hpp"

namespace minivmm::net {

Result<std::unique_ptr<UringWriter>> UringWriter::create(int fd) {
    std::unique_ptr<UringWriter> w(new UringWriter());
    w->fd_ = fd;
    // Created disabled: the restrictions apply before the first request can be submitted.
    io_uring_params params{};
    // SUBMIT_ALL: a request refused at submission does not hold back the ones after it.
    params.flags = IORING_SETUP_R_DISABLED | IORING_SETUP_SUBMIT_ALL;
    int r = io_uring_queue_init_params(MAX_BATCH, &w->ring_, &params);
    if (r < 0) return Error(ErrorCode::Host, "io_uring_setup", -r);
    auto fail = [&w](const char* what, int err) {
        io_uring_queue_exit(&w->ring_);
        w.reset();
        return Error(ErrorCode::Host, what, -err);
    };
    // The descriptor is not registered (IOSQE_FIXED_FILE): a registered file stays referenced
    // until the ring's teardown, which the kernel finishes asynchronously after close, and a
    // tap still referenced is "in use" to the next minivmm started on it.
    io_uring_restriction res[2] = {};
    res[0].opcode = IORING_RESTRICTION_SQE_OP;
    res[0].sqe_op = IORING_OP_WRITE;
    res[1].opcode = IORING_RESTRICTION_SQE_OP;
    res[1].sqe_op = IORING_OP_WRITEV;
    // Raw registrations: Debian's liburing 2.3 does not export io_uring_register_restrictions
    // and io_uring_enable_rings.
    const auto ring = static_cast<unsigned>(w->ring_.ring_fd);
    if ((r = io_uring_register(ring, IORING_REGISTER_RESTRICTIONS, res, 2)) < 0)
        return fail("IORING_REGISTER_RESTRICTIONS", r);
    if ((r = io_uring_register(ring, IORING_REGISTER_ENABLE_RINGS, nullptr, 0)) < 0)
        return fail("IORING_REGISTER_ENABLE_RINGS", r);
    return w;
}

UringWriter::~UringWriter() { io_uring_queue_exit(&ring_); }

size_t UringWriter::write_batch(std::span<const std::span<const iovec>> frames,
                                std::span<IoResult> results) noexcept {
    if (broken_) return 0;
    const size_t n = std::min<size_t>(frames.size(), MAX_BATCH);
    for (size_t i = 0; i < n; ++i) {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring_);   // cannot fail: n <= the ring's size
        const std::span<const iovec> p = frames[i];
        if (p.size() == 1)
            io_uring_prep_write(sqe, fd_, p[0].iov_base, static_cast<unsigned>(p[0].iov_len), 0);
        else
            io_uring_prep_writev(sqe, fd_, p.data(), static_cast<unsigned>(p.size()), 0);
        sqe->user_data = i;
        results[i] = {IoStatus::Failed, 0, ECANCELED};
    }
    // Each request runs during the submission (a tap write does not wait); the wait collects
    // them. EINTR (a signal during the wait) leaves them submitted: wait again.
    // (-EINTR means nothing was submitted: io_uring_enter reports a count once it has one.)
    int r;
    do r = io_uring_submit_and_wait(&ring_, static_cast<unsigned>(n));
    while (r == -EINTR);
    if (r != static_cast<int>(n)) {
        // Out of kernel memory, or a partial submission: what was queued may still go out
        // later, so the ring is not used again (the caller falls back to write(2)).
        broken_ = true;
        return 0;
    }
    size_t reaped = 0;
    while (reaped < n) {
        io_uring_cqe* cqe = nullptr;
        r = io_uring_wait_cqe(&ring_, &cqe);
        if (r == -EINTR) continue;
        if (r < 0) break;   // cannot happen with our own ring; the rest stay Failed
        const size_t i = static_cast<size_t>(cqe->user_data);
        if (i < n) {
            if (cqe->res >= 0)
                results[i] = {IoStatus::Ok, static_cast<size_t>(cqe->res)};
            else
                results[i] = {io_status_for_errno(-cqe->res), 0, -cqe->res};
        }
        io_uring_cqe_seen(&ring_, cqe);
        ++reaped;
    }
    return n;
}

} // namespace minivmm::net
