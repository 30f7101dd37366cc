// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ITrustRegistry} from "./ITrustRegistry.sol";

/// @notice Time-effective status histories shared by CAs and issuer accounts.
/// @dev Non-revocation entries have non-decreasing effective times, so "status at T" is the latest of them
///      effective at or before T. A revocation is final and may be backdated before earlier entries; it
///      overrides everything from its effective time on, like a CRL invalidity date.
library StatusHistory {
    function statusAt(ITrustRegistry.StatusChange[] storage history, bool revoked, uint40 revokedAt, uint40 time)
        internal
        view
        returns (ITrustRegistry.Status)
    {
        // Before registration nothing applies, not even a revocation backdated further than that.
        if (history.length == 0 || time < history[0].effectiveAt) return ITrustRegistry.Status.None;
        if (revoked && time >= revokedAt) return ITrustRegistry.Status.Revoked;
        for (uint256 i = history.length; i > 0; --i) {
            ITrustRegistry.StatusChange storage change = history[i - 1];
            if (change.status != ITrustRegistry.Status.Revoked && change.effectiveAt <= time) {
                return change.status;
            }
        }
        return ITrustRegistry.Status.None;
    }

    /// @return effectiveAt the effective time recorded (0 in the request means now).
    function transition(
        ITrustRegistry.StatusChange[] storage history,
        ITrustRegistry.Status current,
        ITrustRegistry.Status target,
        uint40 requestedEffectiveAt,
        uint8 reason
    ) internal returns (uint40 effectiveAt) {
        uint40 nowTime = uint40(block.timestamp);
        effectiveAt = requestedEffectiveAt == 0 ? nowTime : requestedEffectiveAt;
        if (effectiveAt > nowTime) revert ITrustRegistry.EffectiveTimeInFuture(effectiveAt, nowTime);
        bool allowed = (target == ITrustRegistry.Status.Suspended && current == ITrustRegistry.Status.Active)
            || (target == ITrustRegistry.Status.Active && current == ITrustRegistry.Status.Suspended)
            || (target == ITrustRegistry.Status.Revoked && current != ITrustRegistry.Status.Revoked);
        if (!allowed) revert ITrustRegistry.InvalidStatusTransition(current, target);
        if (target != ITrustRegistry.Status.Revoked) {
            uint40 last = history[history.length - 1].effectiveAt;
            if (effectiveAt < last) revert ITrustRegistry.EffectiveTimeBeforeLastChange(effectiveAt, last);
        }
        history.push(ITrustRegistry.StatusChange(target, effectiveAt, nowTime, reason));
    }
}
