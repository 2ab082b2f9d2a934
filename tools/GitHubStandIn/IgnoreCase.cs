namespace GitHubStandIn;

/// <summary>GitHub compares logins, organization, team and repository names without case.</summary>
internal static class IgnoreCase
{
    public static readonly IEqualityComparer<(string, string)> Pairs = new PairComparer();
    public static readonly IEqualityComparer<(string, string, string)> Triples = new TripleComparer();

    /// <summary>Repository and path compare without case, a ref (a branch name or SHA) with it.</summary>
    public static readonly IEqualityComparer<(string, string, string)> RefPaths = new RefPathComparer();

    private static readonly StringComparer Text = StringComparer.OrdinalIgnoreCase;

    private sealed class PairComparer : IEqualityComparer<(string, string)>
    {
        public bool Equals((string, string) x, (string, string) y) => Text.Equals(x.Item1, y.Item1) && Text.Equals(x.Item2, y.Item2);

        public int GetHashCode((string, string) obj) => HashCode.Combine(Text.GetHashCode(obj.Item1), Text.GetHashCode(obj.Item2));
    }

    private sealed class TripleComparer : IEqualityComparer<(string, string, string)>
    {
        public bool Equals((string, string, string) x, (string, string, string) y) =>
            Text.Equals(x.Item1, y.Item1) && Text.Equals(x.Item2, y.Item2) && Text.Equals(x.Item3, y.Item3);

        public int GetHashCode((string, string, string) obj) =>
            HashCode.Combine(Text.GetHashCode(obj.Item1), Text.GetHashCode(obj.Item2), Text.GetHashCode(obj.Item3));
    }

    private sealed class RefPathComparer : IEqualityComparer<(string, string, string)>
    {
        public bool Equals((string, string, string) x, (string, string, string) y) =>
            Text.Equals(x.Item1, y.Item1) && string.Equals(x.Item2, y.Item2, StringComparison.Ordinal) && Text.Equals(x.Item3, y.Item3);

        public int GetHashCode((string, string, string) obj) =>
            HashCode.Combine(Text.GetHashCode(obj.Item1), obj.Item2.GetHashCode(StringComparison.Ordinal), Text.GetHashCode(obj.Item3));
    }
}
