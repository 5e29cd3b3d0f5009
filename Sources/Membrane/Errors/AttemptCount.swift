extension MembraneError {
    /// The same error, its message saying how many attempts were made when
    /// there was more than one.
    func noting(attempts: Int) -> MembraneError {
        guard attempts > 1 else { return self }
        var error = self
        error.message += " (after \(attempts) attempts)"
        return error
    }
}
