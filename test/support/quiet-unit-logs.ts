import { Logger } from '@nestjs/common';

// Unit tests print errors only: the log lines of the code under test are not the test's output.
// A spec that asserts on logging installs its own logger.
Logger.overrideLogger(['error', 'fatal']);
