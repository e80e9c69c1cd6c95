"""The course's labs as one command each: every task into one folder, and the lab's report."""
