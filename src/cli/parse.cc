#include "lunal/cli/parse.h"

#include "lunal/cli/output.h"

namespace lunal::cli {

std::optional<int> ParseCommandLine(CLI::App& app, int argc, char** argv, const bool& json) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return ReportError(InvalidArgument("cli.usage", "{}", e.what()), json);
  }
  return std::nullopt;
}

}  // namespace lunal::cli
