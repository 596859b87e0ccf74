/// Guest memory changing under the controller (DMA map and unmap).
extension NVMeController {
  /// The guest's DMA window is about to go away: finish every request that
  /// may point into it, and forget cached ring translations.
  public func memoryWillChange() {
    drainBackends()
    forgetRingTranslations()
  }

  /// Mappings were added: rings that were not translatable may be now.
  public func memoryDidChange() { forgetRingTranslations() }

  private func forgetRingTranslations() {
    for qid in session.activeSubmissionIDs { session.submissionQueues[qid]?.ring.invalidate() }
    for qid in session.activeCompletionIDs { session.completionQueues[qid]?.ring.invalidate() }
    session.shadowDoorbells?.invalidate()
  }
}
