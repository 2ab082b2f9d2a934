using DeployFunctions.Board;

namespace DeployFunctions.Tests.Board;

/// <summary>DORA's four keys from day totals: the arithmetic, the window, the bands at their edges.</summary>
public sealed class DoraTests
{
    private static readonly DateOnly First = new(2026, 11, 1);

    [Fact]
    public void The_four_keys_over_a_window_count_only_its_days_and_fill_the_days_without_deployments()
    {
        DayTotals[] days =
        [
            new() { Day = First.AddDays(-1), Succeeded = 50 }, // before the window
            new() { Day = First, Succeeded = 3, Failed = 1, Undone = 1, LeadSeconds = [600, 1800, 7200], RestoreSeconds = [1200] },
            new() { Day = First.AddDays(2), Succeeded = 1, LeadSeconds = [90000], RestoreSeconds = [4000, 100] },
        ];

        var report = Dora.Compute(null, "production", First, First.AddDays(9), days);

        Assert.Equal(10, report.Days);
        Assert.Equal(0.4, report.DeploymentFrequency.Value!.Value, 6);
        Assert.Equal("high", report.DeploymentFrequency.Band);
        Assert.Equal(1800, report.LeadTimeMedian.Value); // nearest rank of 600, 1800, 7200, 90000
        Assert.Equal(90000, report.LeadTimeP90.Value);
        Assert.Equal("elite", report.LeadTimeMedian.Band); // under an hour
        Assert.Equal(2 / 5.0, report.ChangeFailureRate.Value!.Value, 6); // (1 failed + 1 undone) / (4 succeeded + 1 failed)
        Assert.Equal("medium", report.ChangeFailureRate.Band);
        Assert.Equal(1200, report.TimeToRestore.Value); // nearest rank of 100, 1200, 4000
        Assert.Equal("elite", report.TimeToRestore.Band);
        Assert.Equal(10, report.PerDay.Count);
        Assert.Equal([3, 0, 1], report.PerDay.Take(3).Select(d => d.Succeeded));
        Assert.Equal([2, 1, 1, 0, 0], report.LeadTimeDistribution.Select(b => b.Count)); // 90000 s is 25 hours
        Assert.Contains("nearest rank", report.LeadTimeP90.Method, StringComparison.Ordinal);
    }

    [Fact]
    public void No_deployments_is_no_data_not_elite()
    {
        var report = Dora.Compute("octo/app", "production", First, First, []);

        Assert.Equal("no data", report.DeploymentFrequency.Band);
        Assert.Null(report.ChangeFailureRate.Value);
        Assert.Equal("no data", report.ChangeFailureRate.Band);
        Assert.Null(report.LeadTimeMedian.Value);
        Assert.Equal("no data", report.TimeToRestore.Band);
    }

    [Theory]
    [InlineData(1.0, "elite")]
    [InlineData(0.99, "high")]
    [InlineData(1 / 7.0, "high")]
    [InlineData(0.14, "medium")]
    [InlineData(1 / 30.0, "medium")]
    [InlineData(0.03, "low")]
    public void Frequency_bands_at_their_edges(double perDay, string band) => Assert.Equal(band, Dora.FrequencyBand(perDay));

    [Theory]
    [InlineData(0.15, "elite")]
    [InlineData(0.16, "high")]
    [InlineData(0.30, "high")]
    [InlineData(0.45, "medium")]
    [InlineData(0.46, "low")]
    public void Failure_rate_bands_at_their_edges(double rate, string band) => Assert.Equal(band, Dora.RateBand(rate));

    [Theory]
    [InlineData(3599, "elite")]
    [InlineData(3600, "high")]
    [InlineData(86400, "medium")]
    [InlineData(604800, "low")]
    public void Restore_bands_at_their_edges(double seconds, string band) => Assert.Equal(band, Dora.DurationBand(seconds, [3600, 86400, 604800]));

    [Fact]
    public void Percentile_is_the_nearest_rank()
    {
        Assert.Equal(1, Dora.Percentile([1], 90));
        Assert.Equal(1, Dora.Percentile([1, 2], 50)); // rank ceil(0.5 * 2) = 1
        Assert.Equal(9, Dora.Percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90));
        Assert.Equal(10, Dora.Percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 91));
    }
}
