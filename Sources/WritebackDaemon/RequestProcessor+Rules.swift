import Foundation
import WritebackCore
import WritebackPolicy

extension RequestProcessor {
    /// Steps 6 and 7 decided: the request may be written (with its history verdict and the
    /// effective policy the write's refusals are explained with), or the step to take instead.
    enum Ruling: Sendable {
        case pass(HistoryHashPool.Verdict?, EffectivePolicy)
        case stop(Step)
    }

    /// 6. Eligibility that needs the user, and 7. the password rules.
    func checkRules(_ claimed: ClaimedRequest, request: ResetRequest, user: DirectoryUser, at: Target, newPassword: Secret?,
                    runtime: DaemonRuntime, now: Date) async -> Ruling {
        let directory = at.directory
        // 6. Eligibility that needs the user (scope ... throttled).
        let recent: Int
        do {
            recent = try await stateStore.successCount(userDN: user.dn, since: now.addingTimeInterval(-3600))
        } catch {
            return .stop(storeFailure("state store (throttle)", error, now: now))
        }
        if let outcome = at.engine.checkEligibility(request, user: user, recentSuccesses: recent, now: now) {
            return .stop(.complete(outcome, success: nil))
        }

        // 7. Password rules (reset and change), with the stricter of the directory's [policy]
        //    and the user's own policy in the directory, so the directory's refusals come
        //    first, by name, without a write.
        var history: HistoryHashPool.Verdict?
        var effective = EffectivePolicy(config: at.config, directory: nil, kind: request.kind)
        if request.kind != .unlock, let password = newPassword {
            do {
                effective = EffectivePolicy(config: at.config, directory: try await directory.effectivePolicy(for: user), kind: request.kind)
            } catch {
                return .stop(directoryFailure(error, stage: .lookup, claimed: claimed, request: request, at: at, runtime: runtime, now: now))
            }
            do {
                history = try await historyVerdict(password, user: user, policy: effective.applied(to: at.config))
            } catch is HistoryHashPool.Skipped {
                return .stop(givenBackAtShutdown(now: now))
            } catch {
                return .stop(storeFailure("password history", error, now: now))
            }
            let inHistory = (history?.inHistory ?? false)
                || (effective.history > 0 && PasswordHistoryEntry.contains(password, in: user.passwordHistory))
            guard let text = password.unsafeString() else {
                return .stop(.complete(Outcome(.invalidRequest, detail: "new_password: not UTF-8 text"), success: nil))
            }
            if let rule = at.engine.with(effective).passwordViolations(text, user: user, inHistory: inHistory, now: now).first {
                return .stop(.complete(.passwordPolicy(rule), success: nil))
            }
        }

        return .pass(history, effective)
    }

    /// The stricter of `at`'s rules and the directory's policy for `user`; `at`'s rules alone
    /// when the directory's cannot be read now.
    func effectivePolicy(user: DirectoryUser, kind: RequestKind, at: Target) async -> EffectivePolicy {
        EffectivePolicy(config: at.config, directory: (try? await at.directory.effectivePolicy(for: user)) ?? nil, kind: kind)
    }

    /// The history derivation for `password`, or nil when the daemon keeps no history.
    func historyVerdict(_ password: Secret?, user: DirectoryUser, policy: PolicyConfig) async throws -> HistoryHashPool.Verdict? {
        let keep = policy.historyCount
        guard keep > 0, let password else { return nil }
        let record = try await stateStore.history(userDN: user.dn)
        return try await hashes.check(password, record: record, keep: keep, skipIf: { [state] in state.isDraining })
    }
}
