// SimulationSource: the collateral of a sim-tdx simulation root (docs/formats/sim-tdx.md) as a
// CollateralSource, in front of another source for everything else.
//
// Quotes whose PCK names the simulation's FMSPC get a pool built from the root's collateral,
// regenerated when half of its validity has passed (it is signed by the local root, so there is
// nothing to fetch); every other need goes to `fallback` (Intel's and AMD's real collateral), or
// fails with collateral.unavailable when there is none. The pools are separate because a pool
// accepts one TCB signer. Trusting the simulation root is a separate, explicit step
// (LocalVerifierOptions::simulated_anchors): this source only provides documents.
//
// Thread-safe.
#pragma once

#include <memory>

#include "lunal/attest/collateral/source.h"
#include "lunal/attest/sim/simulation_root.h"

namespace lunal::attest::engine {

std::shared_ptr<collateral::CollateralSource> MakeSimulationSource(
    std::shared_ptr<const sim::SimulationRoot> root,
    std::shared_ptr<collateral::CollateralSource> fallback = nullptr);

}  // namespace lunal::attest::engine
