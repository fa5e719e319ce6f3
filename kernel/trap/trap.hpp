#pragma once

#include "proc/process.hpp"

