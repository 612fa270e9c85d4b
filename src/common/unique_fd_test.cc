#include "lunal/common/unique_fd.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace lunal {
namespace {

// A fresh descriptor the test owns (/dev/null, close-on-exec).
int OpenNull() {
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0) << "open /dev/null: errno " << errno;
  return fd;
}

// Whether `fd` names an open descriptor of this process; EBADF is the only "no" accepted.
bool IsOpen(int fd) {
  errno = 0;
  if (::fcntl(fd, F_GETFD) != -1) return true;
  EXPECT_EQ(errno, EBADF) << "fcntl(" << fd << ", F_GETFD)";
  return false;
}

TEST(UniqueFdTest, DefaultIsEmpty) {
  UniqueFd fd;
  EXPECT_EQ(fd.get(), -1);
  EXPECT_FALSE(fd.valid());
}

TEST(UniqueFdTest, DestructorCloses) {
  const int raw = OpenNull();
  {
    UniqueFd fd(raw);
    EXPECT_EQ(fd.get(), raw);
    EXPECT_TRUE(fd.valid());
    EXPECT_TRUE(IsOpen(raw));
  }
  EXPECT_FALSE(IsOpen(raw));
}

TEST(UniqueFdTest, NegativeNumberIsEmptyAndNotClosed) {
  UniqueFd fd(-1);
  EXPECT_FALSE(fd.valid());
  EXPECT_EQ(fd.Close(), EBADF);
}

TEST(UniqueFdTest, ReleaseDoesNotClose) {
  const int raw = OpenNull();
  {
    UniqueFd fd(raw);
    EXPECT_EQ(fd.release(), raw);
    EXPECT_EQ(fd.get(), -1);
    EXPECT_FALSE(fd.valid());
  }
  EXPECT_TRUE(IsOpen(raw));
  ASSERT_EQ(::close(raw), 0);
}

TEST(UniqueFdTest, MoveConstructionTransfers) {
  const int raw = OpenNull();
  UniqueFd from(raw);
  {
    UniqueFd to(std::move(from));
    EXPECT_EQ(to.get(), raw);
    EXPECT_EQ(from.get(), -1);  // NOLINT(bugprone-use-after-move): moved-from is empty
    EXPECT_TRUE(IsOpen(raw));
  }
  EXPECT_FALSE(IsOpen(raw));
}

TEST(UniqueFdTest, MoveAssignmentTransfersAndClosesTheTargetsOldFd) {
  const int old_raw = OpenNull();
  const int new_raw = OpenNull();
  UniqueFd target(old_raw);
  {
    UniqueFd source(new_raw);
    target = std::move(source);
    EXPECT_EQ(source.get(), -1);  // NOLINT(bugprone-use-after-move): moved-from is empty
  }
  EXPECT_FALSE(IsOpen(old_raw));
  EXPECT_TRUE(IsOpen(new_raw));  // the source's destructor did not close it
  EXPECT_EQ(target.get(), new_raw);
  target = UniqueFd();
  EXPECT_FALSE(IsOpen(new_raw));
}

TEST(UniqueFdTest, ResetClosesTheOldOne) {
  const int first = OpenNull();
  const int second = OpenNull();
  UniqueFd fd(first);
  fd.reset(second);
  EXPECT_FALSE(IsOpen(first));
  EXPECT_TRUE(IsOpen(second));
  EXPECT_EQ(fd.get(), second);
  fd.reset(second);  // the same number: kept, not closed
  EXPECT_TRUE(IsOpen(second));
  fd.reset();
  EXPECT_FALSE(IsOpen(second));
  EXPECT_FALSE(fd.valid());
}

TEST(UniqueFdTest, CloseReturnsZeroAndEmpties) {
  const int raw = OpenNull();
  UniqueFd fd(raw);
  EXPECT_EQ(fd.Close(), 0);
  EXPECT_FALSE(fd.valid());
  EXPECT_EQ(fd.get(), -1);
  EXPECT_FALSE(IsOpen(raw));
  EXPECT_EQ(fd.Close(), EBADF);  // already empty
}

TEST(UniqueFdTest, CloseOfAnAlreadyClosedNumberReportsEbadf) {
  const int raw = OpenNull();
  ASSERT_EQ(::close(raw), 0);
  UniqueFd fd(raw);
  EXPECT_EQ(fd.Close(), EBADF);
  EXPECT_FALSE(fd.valid());
}

}  // namespace
}  // namespace lunal
